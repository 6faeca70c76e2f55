/**
 * The daqs configuration file, defined once: this zod schema validates the YAML, gives the
 * TypeScript type (DaqsConfig) and generates the JSON Schema (`daqs schema`). Keys in the file
 * are short ("guarantee: 10gbit"); parsed values carry units in their names (guaranteeBps).
 */
import { z } from 'zod';
import { POLICY_NAMES } from '../policy/names.ts';
import { NAME_PATTERN as TESTBED_NAME_PATTERN } from '../testbed/plan.ts';
import { formatRate } from '../units/rate.ts';
import { DEFAULT_STATUS_ADDRESS } from '../util/listen-address.ts';
import { LOG_LEVELS } from '../util/log.ts';
import { checkAdmission } from './admission.ts';
import { ifaceNameField, isLoopback, listenField, macField, rateBpsField, weightField } from './fields.ts';

/** Where the inventory finds VMs. */
export const INVENTORY_SOURCES = ['libvirt', 'static', 'testbed'] as const;

/** Default status listen address (loopback only). */
export const DEFAULT_STATUS_LISTEN = DEFAULT_STATUS_ADDRESS;
/** Default Prometheus metrics listen address (loopback only). */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9311';
/** Default control loop period (port.tickMs). */
export const DEFAULT_TICK_MS = 200;
/** Default bound on one guest agent request (agent.timeoutMs). */
export const DEFAULT_AGENT_TIMEOUT_MS = 150;
/** Default libvirt connection. */
export const DEFAULT_LIBVIRT_URI = 'qemu:///system';

// A mapping that refuses unknown keys; the issue converter adds the "did you mean" hint.
function strict<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'invalid_type' ? `must be a mapping (${what}) with keys: ${Object.keys(shape).join(', ')}` : undefined),
  });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of: ${values.join(', ')}` });
}

function wholeNumber(min: number, max: number, unit: string, dflt: number) {
  const rule = `must be a whole number of ${unit} from ${min} to ${max} (default ${dflt})`;
  return z.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule }).default(dflt);
}

const vmNameField = z
  .string({ error: 'must be a VM name (libvirt domain name or testbed VM name)' })
  .refine((s) => s.length > 0 && s.length <= 200 && !s.includes('/') && ![...s].some((ch) => ch.charCodeAt(0) < 0x20), { message: 'is not a VM name: 1 to 200 characters, no "/" or control characters' });

const testbedNameField = z
  .string({ error: 'must be the name of an emulated host (testbed) instance' })
  .refine((s) => TESTBED_NAME_PATTERN.test(s), { message: 'is not a testbed name: a lowercase letter then up to 7 lowercase letters or digits (as given to `daqs testbed up`)' });

const hostNameField = z
  .string({ error: 'must be a host name' })
  .refine((s) => /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s), { message: 'is not a host name: letters, digits, "-" and "." (no port, no scheme)' });

const socketPathField = z
  .string({ error: 'must be an absolute path to a unix socket' })
  .refine((s) => s.startsWith('/') && !s.includes('\u0000'), { message: 'must be an absolute path to the agent unix socket (e.g. "/run/daqs/agents/web1.sock")' });

/** Per-VM SLA settings as written in the file; every one optional so libvirt metadata can fill the rest. */
export const vmSettingsSchema = strict(
  {
    guarantee: rateBpsField({ allowZero: true }).describe('Minimum TX rate kept for this VM when it wants it (tc units: "10gbit"); 0 or absent: Best-Effort').optional(),
    max: rateBpsField({ allowZero: false }).describe('Maximum TX rate this VM may ever send (tc units)').optional(),
    weight: weightField.describe('Relative share of the bandwidth left to Best-Effort VMs (default 1)').optional(),
    interface: ifaceNameField.describe('The VF as the guest names it (e.g. eth1)').optional(),
    mac: macField.describe('MAC address of the VF, to pick it when the VM has several').optional(),
  },
  'a VM\'s settings',
)
  .superRefine((vm, ctx) => {
    if (vm.guarantee !== undefined && vm.max !== undefined && vm.guarantee > vm.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['guarantee'],
        input: formatRate(vm.guarantee),
        message: `is above max ${formatRate(vm.max)}: a VM cannot be guaranteed more than it may send; lower guarantee or raise max`,
      });
    }
  })
  .transform((vm) => ({ guaranteeBps: vm.guarantee, maxBps: vm.max, weight: vm.weight, iface: vm.interface, mac: vm.mac }));

const portSchema = strict(
  {
    interface: ifaceNameField.describe('Host interface of the shared SR-IOV port (the PF), e.g. enp65s0f0').optional(),
    testbed: testbedNameField.describe('Name of an emulated host instance to control instead of a real NIC').optional(),
    capacity: rateBpsField({ allowZero: false }).describe('Nominal port capacity (tc units); default: the link speed, or the testbed port rate').optional(),
    tickMs: wholeNumber(50, 10_000, 'milliseconds', DEFAULT_TICK_MS).describe('Control loop period in milliseconds'),
  },
  'the shared port',
)
  .superRefine((p, ctx) => {
    if ((p.interface === undefined) === (p.testbed === undefined)) {
      ctx.addIssue({
        code: 'custom',
        input: undefined,
        message: p.interface === undefined
          ? 'needs exactly one of "interface" (the host NIC, e.g. interface: enp65s0f0) or "testbed" (an emulated host name); neither is set'
          : 'needs exactly one of "interface" or "testbed"; both are set: remove one',
      });
    }
  })
  .transform((p) => ({ interface: p.interface ?? null, testbed: p.testbed ?? null, capacityBps: p.capacity ?? null, tickMs: p.tickMs }));

const staticVmSchema = strict({ name: vmNameField, socket: socketPathField, mac: macField.optional() }, 'a VM\'s agent socket');

const inventorySchema = strict(
  {
    source: oneOf(INVENTORY_SOURCES).describe('Where VMs come from; default testbed when port.testbed is set, else libvirt').optional(),
    static: z.array(staticVmSchema, { error: 'must be a list of {name, socket, mac?} entries' }).default([]),
    libvirt: strict({ uri: z.string({ error: 'must be a libvirt URI string such as "qemu:///system"' }).min(1).default(DEFAULT_LIBVIRT_URI) }, 'libvirt connection').prefault({}),
    pollMs: wholeNumber(500, 600_000, 'milliseconds', 5000).describe('How often the inventory looks VMs up, in milliseconds'),
  },
  'where VMs come from',
).prefault({});

const daemonSchema = strict(
  {
    onStart: oneOf(['adopt', 'reset']).default('adopt').describe('adopt: take over caps found in guests; reset: remove them at start'),
    onStop: oneOf(['lift', 'keep']).default('lift').describe('lift: remove the caps daqs set when it stops; keep: leave them'),
    status: listenField.prefault(DEFAULT_STATUS_LISTEN).describe('Status endpoint: loopback HOST:PORT or unix socket path'),
    metrics: strict(
      { listen: listenField.prefault(DEFAULT_METRICS_LISTEN), allowNonLoopback: z.boolean({ error: 'must be true or false' }).default(false) },
      'the Prometheus endpoint',
    ).prefault({}),
    logLevel: oneOf(LOG_LEVELS).default('info').describe('Log level'),
    allowedHosts: z
      .array(hostNameField, { error: 'must be a list of host names, e.g. ["metrics.example.net"]' })
      .default([])
      .describe('Host names the HTTP endpoints answer to besides IP addresses, localhost and this host\'s name (others get 421: DNS rebinding)'),
  },
  'daemon behaviour',
)
  .superRefine((d, ctx) => {
    // Status lets anyone who reaches it see every VM's SLA and rates: keep it on this machine.
    if (!isLoopback(d.status)) {
      ctx.addIssue({ code: 'custom', path: ['status'], input: d.status.kind === 'tcp' ? `${d.status.host}:${d.status.port}` : d.status.path, message: 'must be a loopback address (127.0.0.1, ::1, localhost) or a unix socket path' });
    }
    if (!isLoopback(d.metrics.listen) && !d.metrics.allowNonLoopback) {
      ctx.addIssue({
        code: 'custom',
        path: ['metrics', 'listen'],
        input: d.metrics.listen.kind === 'tcp' ? `${d.metrics.listen.host}:${d.metrics.listen.port}` : d.metrics.listen.path,
        message: 'is not a loopback address: set daemon.metrics.allowNonLoopback: true to expose metrics beyond this host',
      });
    }
  })
  .prefault({});

const agentSchema = strict(
  // Below one second so that a stuck agent costs at most a few ticks, never a long stall.
  { timeoutMs: wholeNumber(10, 999, 'milliseconds', DEFAULT_AGENT_TIMEOUT_MS).describe('Timeout of one guest agent request, in milliseconds') },
  'guest agent settings',
).prefault({});

/** The whole configuration file. */
export const configSchema = strict(
  {
    port: portSchema,
    policy: oneOf(POLICY_NAMES).default('daqs').describe('Allocation policy'),
    vms: z.record(vmNameField, vmSettingsSchema, { error: (iss) => (iss.code === 'invalid_type' ? 'must be a mapping of VM name to settings' : undefined) }).default({}),
    inventory: inventorySchema,
    daemon: daemonSchema,
    agent: agentSchema,
  },
  'the daqs configuration',
)
  // Admission runs even when other values are wrong, so an operator sees every problem at once.
  // The value may then be partly unparsed: only numbers that did parse are counted, which can
  // miss an overflow (reported once the typo is fixed) but never invents one.
  .superRefine(
    (c, ctx) => {
      const partial = c as unknown as { port?: { capacityBps?: unknown }; vms?: unknown };
      const capacityBps = partial.port?.capacityBps;
      if (typeof capacityBps !== 'number' || typeof partial.vms !== 'object' || partial.vms === null) return;
      const claims = Object.entries(partial.vms as Record<string, { guaranteeBps?: unknown } | null>).map(([id, vm]) => ({
        id,
        guaranteeBps: typeof vm?.guaranteeBps === 'number' ? vm.guaranteeBps : 0,
      }));
      const issue = checkAdmission(claims, capacityBps);
      if (issue) ctx.addIssue({ code: 'custom', path: ['vms'], input: undefined, message: issue.rule, params: { daqs: 'admission' } });
    },
    { when: () => true },
  )
  .superRefine((c, ctx) => {
    const source = c.inventory.source ?? (c.port.testbed !== null ? 'testbed' : 'libvirt');
    if (source === 'static' && c.inventory.static.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['inventory', 'static'], input: undefined, message: 'is empty but inventory.source is "static": list the VMs as {name, socket} entries' });
    }
    if (source === 'testbed' && c.port.testbed === null) {
      ctx.addIssue({ code: 'custom', path: ['inventory', 'source'], input: source, message: 'needs port.testbed (the emulated host to attach to)' });
    }
    const seen = new Set<string>();
    const socketOwner = new Map<string, string>();
    c.inventory.static.forEach((vm, i) => {
      if (seen.has(vm.name)) ctx.addIssue({ code: 'custom', path: ['inventory', 'static', i, 'name'], input: vm.name, message: 'appears twice in inventory.static: VM names must be unique' });
      seen.add(vm.name);
      // qemu-ga serves one client, and its replies would go to whichever VM asked: one socket, one VM.
      const owner = socketOwner.get(vm.socket);
      if (owner !== undefined) ctx.addIssue({ code: 'custom', path: ['inventory', 'static', i, 'socket'], input: vm.socket, message: `is also the agent socket of VM ${owner}: each VM needs its own agent socket; fix the path of one of them` });
      else socketOwner.set(vm.socket, vm.name);
    });
  })
  .transform((c) => ({
    ...c,
    inventory: { ...c.inventory, source: c.inventory.source ?? (c.port.testbed !== null ? 'testbed' as const : 'libvirt' as const) },
  }));

/** The configuration as written in the file (rate strings, optional keys). */
export type DaqsConfigInput = z.input<typeof configSchema>;
/** The validated configuration: rates in bits/s, defaults filled in. */
export type DaqsConfig = z.output<typeof configSchema>;
/** One VM's settings from the file; undefined means "not set here". */
export type VmSettings = z.output<typeof vmSettingsSchema>;
/** Name of an inventory source. */
export type InventorySourceName = (typeof INVENTORY_SOURCES)[number];
