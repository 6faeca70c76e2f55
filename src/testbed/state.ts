/** The on-disk record of one instance, so `down` and `attach` work from any process, also after a crash. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { TestbedError } from './errors.ts';
import { DEFAULT_GUEST_MEMORY_MIB } from './plan.ts';

/** Schema of state.json; bump `version` on incompatible changes. */
export const TestbedStateSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  vms: z.number().int().positive(),
  capacityBps: z.number().positive(),
  stateDir: z.string(),
  /** false while `up` is still building: such an instance is torn down and rebuilt by the next `up`. */
  complete: z.boolean(),
  creatorPid: z.number().int(),
  createdAtEpochMs: z.number(),
  namespaces: z.array(z.string()),
  agentPids: z.array(z.number().int()),
  iperfServerPid: z.number().int().nullable(),
  /** A `sleep` parked in the switch namespace: its /proc/PID/net/dev is the fast counter path. */
  switchPid: z.number().int().nullable().default(null),
  /** VMs 0..real-1 are real QEMU guests (the rest are namespaces). */
  real: z.number().int().nonnegative().default(0),
  /** Real guests started through the instance's own libvirtd (else QEMU directly). */
  libvirt: z.boolean().default(false),
  /** Guest RAM of each real guest, MiB. */
  guestMemoryMiB: z.number().int().positive().default(DEFAULT_GUEST_MEMORY_MIB),
  /** Pid of each real guest's QEMU, by VM index (null until it started). */
  qemuPids: z.array(z.number().int().nullable()).default([]),
  /** The instance's own libvirtd, when `libvirt`. */
  libvirtdPid: z.number().int().nullable().default(null),
  /** Connection URI of that libvirtd (`virsh -c URI`). */
  libvirtUri: z.string().nullable().default(null),
  /** Hash of the guest image the real guests booted. */
  guestImageHash: z.string().nullable().default(null),
});

/** One instance's state as kept in state.json. */
export type TestbedState = z.output<typeof TestbedStateSchema>;

/** Writes state atomically (write then rename), so a crash never leaves half a file. */
export async function writeState(file: string, dir: string, state: TestbedState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file);
}

/** Reads state.json; null when there is none. A corrupt file is an error that says how to recover. */
export async function readState(file: string): Promise<TestbedState | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const parsed = TestbedStateSchema.safeParse((() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success) {
    throw new TestbedError('E_TESTBED_NOT_FOUND', `testbed state ${file} is unreadable or from another version; run \`daqs testbed down\` with that name to clean it up.`);
  }
  return parsed.data;
}
