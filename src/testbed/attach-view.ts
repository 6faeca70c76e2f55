/**
 * The part of the emulated host (`testbedAttach`) that daqs' inventory and config use, as a
 * narrow interface so tests can stand in for a testbed without namespaces. The rest of the
 * testbed is loaded lazily: `daqs run` against libvirt never loads the testbed code.
 */
import type { Testbed, TestbedVm } from './types.ts';

/** One emulated VM as the testbed describes it. */
export type TestbedVmView = Pick<TestbedVm, 'index' | 'id' | 'netns' | 'iface' | 'mac' | 'ip' | 'agentSocket'>;

/** What the inventory reads of a running emulated host. */
export interface TestbedView {
  /** Port rate the emulated switch shapes to, bits/s. */
  readonly capacityBps: number;
  readonly vms: readonly TestbedVmView[];
}

/** Attaches to a running emulated host by name. */
export type TestbedAttach = (name: string) => Promise<TestbedView>;

/** The emulated host could not be attached (not up, or its state is unreadable). */
export class TestbedAttachError extends Error {
  readonly code = 'E_TESTBED_ATTACH';
  constructor(readonly testbed: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot attach to testbed ${JSON.stringify(testbed)}: ${reason}`, options);
    this.name = 'TestbedAttachError';
  }
}

/** `testbedAttach` from src/testbed; its errors (e.g. E_TESTBED_NOT_FOUND, with the fix) are wrapped with their code. */
export const attachTestbed: TestbedAttach = async (name) => {
  const { testbedAttach } = await import('./index.ts');
  let tb: Testbed;
  try {
    tb = await testbedAttach(name);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new TestbedAttachError(name, `${(e as Error).message}${typeof code === 'string' ? ` [${code}]` : ''}`, { cause: e });
  }
  return tb;
};
