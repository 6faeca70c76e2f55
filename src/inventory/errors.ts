/** Stable codes of inventory errors. */
export type InventoryErrorCode = 'E_VIRSH_LIST' | 'E_VIRSH_DUMPXML' | 'E_DOMAIN_XML' | 'E_TESTBED_ATTACH';

/** An inventory lookup failed; says which VM (if any) and which operation. */
export class InventoryError extends Error {
  constructor(
    readonly code: InventoryErrorCode,
    message: string,
    readonly vm?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InventoryError';
  }
}
