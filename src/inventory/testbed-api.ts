/**
 * The part of the emulated host's API (src/testbed, `testbedAttach`) that daqs' inventory and
 * config use. Declared here structurally and loaded lazily so that `daqs run` against real
 * libvirt never loads the testbed code, and so this module does not break while the testbed
 * module evolves: a shape mismatch is reported at attach time with a clear error.
 */

/** One emulated VM as the testbed describes it. */
export interface TestbedVmView {
  readonly index: number;
  readonly id: string;
  readonly netns: string;
  readonly iface: string;
  readonly mac: string;
  readonly ip: string;
  readonly agentSocket: string;
}

/** A running emulated host. */
export interface TestbedView {
  /** Port rate the emulated switch shapes to, bits/s. */
  readonly capacityBps: number;
  readonly vms: readonly TestbedVmView[];
}

/** Attaches to a running emulated host by name. */
export type TestbedAttach = (name: string) => Promise<TestbedView>;

/** The emulated host could not be attached or did not look as expected. */
export class TestbedAttachError extends Error {
  readonly code = 'E_TESTBED_ATTACH';
  constructor(readonly testbed: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot attach to testbed ${JSON.stringify(testbed)}: ${reason}`, options);
    this.name = 'TestbedAttachError';
  }
}

// A variable specifier keeps the typechecker from resolving the testbed module at build time.
const TESTBED_MODULE = '../testbed/index.ts';

/** `testbedAttach` from src/testbed, checked to return the shape above. */
export const attachTestbed: TestbedAttach = async (name) => {
  let mod: { testbedAttach?: (name: string) => Promise<unknown> };
  try {
    mod = (await import(TESTBED_MODULE)) as typeof mod;
  } catch (e) {
    throw new TestbedAttachError(name, `the testbed module is not available (${(e as Error).message})`, { cause: e });
  }
  if (typeof mod.testbedAttach !== 'function') throw new TestbedAttachError(name, 'src/testbed/index.ts does not export testbedAttach');
  let tb: unknown;
  try {
    tb = await mod.testbedAttach(name);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new TestbedAttachError(name, `${(e as Error).message}${typeof code === 'string' ? ` [${code}]` : ''}`, { cause: e });
  }
  return checkTestbedView(name, tb);
};

/** Checks an attached testbed has the fields daqs relies on; throws TestbedAttachError naming the first missing one. */
export function checkTestbedView(name: string, tb: unknown): TestbedView {
  const t = tb as Partial<TestbedView> | null;
  if (!t || typeof t !== 'object') throw new TestbedAttachError(name, 'testbedAttach returned nothing');
  if (typeof t.capacityBps !== 'number' || !(t.capacityBps > 0)) throw new TestbedAttachError(name, 'the testbed has no positive capacityBps');
  if (!Array.isArray(t.vms)) throw new TestbedAttachError(name, 'the testbed has no vms list');
  t.vms.forEach((vm: Partial<TestbedVmView>, i) => {
    for (const key of ['id', 'iface', 'mac', 'agentSocket'] as const) {
      if (typeof vm[key] !== 'string') throw new TestbedAttachError(name, `vms[${i}].${key} is missing`);
    }
  });
  return t as TestbedView;
}
