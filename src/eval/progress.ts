/**
 * The progress display of a running experiment, as strings: one status line with the policy,
 * the step and each VM's live rate in paper units. The CLI decides where and how often to print.
 */
import type { ProgressEvent } from './runner.ts';

function gbit(bps: number): string {
  return (bps / 1e9).toFixed(1).padStart(4);
}

/** Up to this many VMs the line shows each; beyond, the Best-Effort VMs as one sum. */
const EACH_VM_UP_TO = 9;
/** A Best-Effort VM counts as sending from this rate (paper units): above a floor cap's trickle. */
const SENDING_PAPER_BPS = 0.1e9;

/**
 * One line: "[2/5 static] guarantee 15 Gbit/s 4.2s | G 15.1 | BE1 21.3 | total 36.4 Gbit/s (paper units)";
 * with many VMs: "... | G1 5.1 | G2 10.2 | BE (6 sending) 20.3 | total ...".
 */
export function renderProgressLine(e: ProgressEvent): string {
  const rates = e.ratesBps.map((r) => r * e.scale);
  const total = rates.reduce((a, b) => a + b, 0);
  const label = (i: number): string => e.vms[i]?.label ?? `vm${i}`;
  let parts: string[];
  if (rates.length <= EACH_VM_UP_TO) {
    parts = rates.map((r, i) => `${label(i)} ${gbit(r)}`);
  } else {
    const be = rates.filter((_, i) => e.vms[i]?.role !== 'guarantee');
    parts = [
      ...rates.flatMap((r, i) => (e.vms[i]?.role === 'guarantee' ? [`${label(i)} ${gbit(r)}`] : [])),
      `BE (${be.filter((r) => r >= SENDING_PAPER_BPS).length} sending) ${gbit(be.reduce((a, b) => a + b, 0))}`,
    ];
  }
  const vms = parts.join(' | ');
  return `[${e.policyIndex + 1}/${e.policyCount} ${e.policy}] ${e.step} ${e.stepElapsedS.toFixed(1)}s | ${vms} | total ${gbit(total)} Gbit/s (paper units)`;
}

/** A progress printer for a stream: rewrites one line on a terminal, prints step changes otherwise. */
export function createProgressPrinter(out: NodeJS.WriteStream): { update(e: ProgressEvent): void; done(): void } {
  let lastKey = '';
  let lastLen = 0;
  return {
    update(e) {
      const line = renderProgressLine(e);
      if (out.isTTY) {
        const width = out.columns ?? 120;
        const shown = line.length > width - 1 ? line.slice(0, width - 1) : line;
        out.write(`\r${shown}${' '.repeat(Math.max(0, lastLen - shown.length))}`);
        lastLen = shown.length;
        return;
      }
      // Logs and CI: one line per step, and a line per 5 s within long steps.
      const key = `${e.policy}|${e.step}|${Math.floor(e.stepElapsedS / 5)}`;
      if (key !== lastKey) out.write(`${line}\n`);
      lastKey = key;
    },
    done() {
      if (out.isTTY && lastLen > 0) out.write('\n');
      lastLen = 0;
    },
  };
}
