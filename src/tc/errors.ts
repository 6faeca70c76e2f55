/** Errors of in-guest enforcement, with stable codes. */

/** Stable codes of tc errors. */
export type TcErrorCode =
  /** tc ran and exited non-zero or was killed: its stderr is in the message. */
  'E_EXEC_FAILED';

/** A tc run that failed, naming the VM and what daqs was doing. */
export class TcError extends Error {
  constructor(readonly code: TcErrorCode, readonly vm: string, readonly operation: string, message: string) {
    super(`vm ${vm}: ${operation}: ${message}`);
    this.name = 'TcError';
  }
}
