/** Stable codes of the emulated host's errors; tests and callers match on these, not on text. */
export type TestbedErrorCode =
  | 'E_TESTBED_NAME'
  | 'E_TESTBED_VMS'
  | 'E_TESTBED_CAPACITY'
  | 'E_TESTBED_STATE_DIR'
  | 'E_TESTBED_NOT_ROOT'
  | 'E_TESTBED_MISSING_BINARY'
  | 'E_TESTBED_MISMATCH'
  | 'E_TESTBED_NOT_FOUND'
  | 'E_TESTBED_VM_INDEX'
  | 'E_TESTBED_RATE'
  | 'E_TESTBED_AGENT'
  | 'E_TESTBED_BUILD';

/** An emulated-host error: says what is wrong and how to fix it, with a stable `code`. */
export class TestbedError extends Error {
  constructor(readonly code: TestbedErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestbedError';
  }
}
