/**
 * Serves the web view, /metrics and /api/* fed by the synthetic host, for looking at the page
 * or trying `daqs status` without a daemon: npx tsx test/server/serve-synthetic.ts [ADDRESS] [VMS]
 * (VMS: how many VMs; default the paper's four, above that the many-VM model).
 */
import { ObservationHub } from '../../src/server/hub.ts';
import { startServer } from '../../src/server/http.ts';
import { createLogger } from '../../src/util/log.ts';
import { feed } from './helpers.ts';
import { manyVms, paperLikeVms, SyntheticHost } from './synthetic-host.ts';

const TICK_MS = 200;
const logger = createLogger({ level: 'info' });
const hub = new ObservationHub({ logger });
const historyTicks = (2 * 60_000) / TICK_MS;
const count = Number(process.argv[3] ?? 4);
const host = new SyntheticHost({ capacityBps: 2e9, learnedCapacityBps: 1.88e9, vms: count > 4 ? manyVms(count) : paperLikeVms(4, 150), startEpochMs: Date.now() - historyTicks * TICK_MS });
hub.setInfo({ configPath: '(synthetic)', portName: 'synthetic', tickPeriodMs: TICK_MS });
feed(hub, host, historyTicks);
const server = await startServer({ address: process.argv[2] ?? '127.0.0.1:9310', hub, logger });
const timer = setInterval(() => feed(hub, host, 1), TICK_MS);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    clearInterval(timer);
    void server.close();
  });
}
