/** Errors the simulator raises, each with a stable `code`. */

/** An endpoint made to fail on purpose (fault injection). */
export class SimFaultError extends Error {
  readonly code = 'E_SIM_FAULT';
  constructor(readonly vm: string, op: string) {
    super(`simulated fault on ${vm} during ${op}`);
    this.name = 'SimFaultError';
  }
}

/** A request the simulated VM refuses, as a real one would (bad cap, unknown VM). */
export class SimRequestError extends Error {
  constructor(readonly code: 'E_SIM_BAD_CAP' | 'E_SIM_NO_VM', message: string) {
    super(message);
    this.name = 'SimRequestError';
  }
}
