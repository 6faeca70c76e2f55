/** Errors the simulator raises, each with a stable `code`. */

/** An endpoint made to fail on purpose (fault injection). */
export class SimFaultError extends Error {
  readonly code = 'E_SIM_FAULT';
  constructor(readonly vm: string, op: string) {
    super(`simulated fault on ${vm} during ${op}`);
    this.name = 'SimFaultError';
  }
}

/** A request the simulator refuses: a bad cap or unknown VM (as a real one would), or a bad host option. */
export class SimRequestError extends Error {
  constructor(readonly code: 'E_SIM_BAD_CAP' | 'E_SIM_NO_VM' | 'E_SIM_BAD_OPTION', message: string) {
    super(message);
    this.name = 'SimRequestError';
  }
}
