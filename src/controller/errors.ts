/** Errors the control loop raises or reports, each with a stable `code`. */

/** A VM call that did not answer within the per-VM timeout. */
export class VmTimeoutError extends Error {
  readonly code = 'E_VM_TIMEOUT';
  constructor(readonly vm: string, readonly op: string, readonly timeoutMs: number) {
    super(`${op} on ${vm} did not answer within ${timeoutMs} ms`);
    this.name = 'VmTimeoutError';
  }
}

/** A controller option that cannot work, naming the option and the rule. */
export class ControllerConfigError extends Error {
  readonly code = 'E_CONTROLLER_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ControllerConfigError';
  }
}

/** A call made in the wrong state (start twice). */
export class ControllerStateError extends Error {
  readonly code = 'E_CONTROLLER_STATE';
  constructor(message: string) {
    super(message);
    this.name = 'ControllerStateError';
  }
}

/** The stable code of any thrown value, for reports ("E_UNKNOWN" when it has none). */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return 'E_UNKNOWN';
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
