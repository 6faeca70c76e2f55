import type { VmSettings } from '../config/schema.ts';
import type { InventoryHealth, VmId } from '../core/types.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { countInventoryStatuses } from './health.ts';
import { buildInventory, carryOver } from './merge.ts';
import type { DiscoveredVm, InventorySource, InventoryVm } from './types.ts';

/** What changed between two polls. */
export interface InventoryChange {
  readonly appeared: readonly InventoryVm[];
  readonly disappeared: readonly VmId[];
  /** VMs whose SLA, agent, status, VF or problems changed. */
  readonly changed: readonly InventoryVm[];
  /** The whole inventory now. */
  readonly vms: readonly InventoryVm[];
}

/** The parts of the running configuration the inventory uses; read at each poll so reloads apply. */
export interface InventorySettings {
  readonly vms: Readonly<Record<string, Partial<VmSettings>>>;
  readonly capacityBps: number;
}

/** Options of an InventoryPoller. */
export interface InventoryPollerOptions {
  readonly source: InventorySource;
  readonly settings: () => InventorySettings;
  /** Between the end of one poll and the start of the next (inventory.pollMs). */
  readonly intervalMs: number;
  readonly onChange?: (change: InventoryChange) => void;
  /** The source could not list VMs at all; the previous inventory stays. */
  readonly onError?: (error: Error) => void;
  /** After every poll, successful or not, and every remerge: the inventory's health now. */
  readonly onHealth?: (health: InventoryHealth) => void;
  readonly logger?: Logger;
  /** Wall clock for the last-refresh time (tests pass a fixed one); default Date.now. */
  readonly nowEpochMs?: () => number;
}

/**
 * Polls a source every few seconds (not every tick: a libvirt lookup forks virsh per VM) and
 * keeps the current inventory for the loop to read without waiting. A source that fails
 * keeps the previous inventory; a VM whose lookup fails keeps its last known state.
 */
export class InventoryPoller {
  private current: readonly InventoryVm[] = [];
  private lastFound: readonly DiscoveredVm[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<readonly InventoryVm[]> | null = null;
  private stopped = true;
  private lastRefreshEpochMs: number | null = null;
  private refreshFailures = 0;
  private intervalMs: number;
  private readonly log: Logger;

  constructor(private readonly opts: InventoryPollerOptions) {
    this.log = (opts.logger ?? silentLogger).child({ op: 'inventory', source: opts.source.name });
    this.intervalMs = opts.intervalMs;
  }

  /** A new interval between polls (a config reload); a wait in progress restarts with it. */
  setIntervalMs(ms: number): void {
    this.intervalMs = ms;
    if (this.timer === null || this.stopped) return;
    clearTimeout(this.timer);
    this.schedule();
  }

  /** The inventory as of the last poll. */
  get vms(): readonly InventoryVm[] {
    return this.current;
  }

  /** VMs per status, when the source last listed VMs, and how often it could not. */
  health(): InventoryHealth {
    return { vms: countInventoryStatuses(this.current), lastRefreshEpochMs: this.lastRefreshEpochMs, refreshFailures: this.refreshFailures };
  }

  /** Polls now; concurrent calls share one poll. Never rejects: failures go to onError. */
  refresh(): Promise<readonly InventoryVm[]> {
    this.running ??= this.poll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Applies new settings (after a config reload) to the last discovered VMs, without polling. */
  remerge(): readonly InventoryVm[] {
    this.publish(this.lastFound);
    this.opts.onHealth?.(this.health());
    return this.current;
  }

  /** Polls at once, then every intervalMs after each poll ends. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.pollThenSchedule();
  }

  /** Stops polling; the last inventory stays readable. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private pollThenSchedule(): void {
    this.timer = null;
    void this.refresh().then(() => {
      if (!this.stopped) this.schedule();
    });
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.pollThenSchedule(), this.intervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<readonly InventoryVm[]> {
    let found: DiscoveredVm[];
    try {
      found = await this.opts.source.discover();
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.log.warn({ code: (error as { code?: string }).code, err: error.message }, 'inventory lookup failed; keeping the previous inventory');
      this.refreshFailures++;
      this.opts.onError?.(error);
      this.opts.onHealth?.(this.health());
      return this.current;
    }
    this.lastRefreshEpochMs = (this.opts.nowEpochMs ?? Date.now)();
    this.publish(carryOver(found, this.lastFound));
    this.opts.onHealth?.(this.health());
    return this.current;
  }

  private publish(found: readonly DiscoveredVm[]): void {
    const settings = this.opts.settings();
    const next = buildInventory(found, { vms: settings.vms, capacityBps: settings.capacityBps, previous: this.current });
    const change = diffInventory(this.current, next);
    this.lastFound = found;
    this.current = next;
    if (change.appeared.length + change.disappeared.length + change.changed.length === 0) return;
    for (const vm of change.appeared) this.log.info({ vm: vm.id, agent: vm.status.state }, 'VM appeared');
    for (const id of change.disappeared) this.log.info({ vm: id }, 'VM disappeared');
    for (const vm of [...change.appeared, ...change.changed]) {
      for (const p of vm.problems) this.log.warn({ vm: vm.id }, p);
    }
    this.opts.onChange?.(change);
  }
}

/** Compares two inventories by VM id. */
export function diffInventory(before: readonly InventoryVm[], after: readonly InventoryVm[]): InventoryChange {
  const old = new Map(before.map((vm) => [vm.id, vm]));
  const ids = new Set(after.map((vm) => vm.id));
  return {
    appeared: after.filter((vm) => !old.has(vm.id)),
    disappeared: before.filter((vm) => !ids.has(vm.id)).map((vm) => vm.id),
    changed: after.filter((vm) => old.has(vm.id) && JSON.stringify(old.get(vm.id)) !== JSON.stringify(vm)),
    vms: after,
  };
}
