import { describe, expect, it } from 'vitest';
import { renderProgressLine } from '../../src/eval/progress.ts';
import type { ProgressEvent } from '../../src/eval/steps.ts';

function event(vmCount: number, gCount: number, ratesBps: (i: number) => number): ProgressEvent {
  return {
    policy: 'daqs',
    step: '#3 +BE7',
    stepElapsedS: 1.23,
    ratesBps: Array.from({ length: vmCount }, (_, i) => ratesBps(i)),
    vms: Array.from({ length: vmCount }, (_, i) => (i < gCount ? { label: `G${i + 1}`, role: 'guarantee' as const } : { label: `BE${i - gCount + 1}`, role: 'best-effort' as const })),
    scale: 20,
    policyIndex: 3,
    policyCount: 5,
  };
}

describe('renderProgressLine', () => {
  it('names every VM by its label when there are few', () => {
    const line = renderProgressLine(event(4, 2, (i) => (i + 1) * 0.1e9));
    expect(line).toBe('[4/5 daqs] #3 +BE7 1.2s | G1  2.0 | G2  4.0 | BE1  6.0 | BE2  8.0 | total 20.0 Gbit/s (paper units)');
  });
  it('with many VMs shows each Guarantee VM and the Best-Effort VMs as one sum with how many send', () => {
    // 3 Guarantee VMs, 61 BE VMs of which 5 send 0.2 Gbit/s each (4 paper) and the rest trickle.
    const line = renderProgressLine(event(64, 3, (i) => (i < 3 ? 0.25e9 : i < 8 ? 0.2e9 : 1e3)));
    expect(line).toContain('| G1  5.0 | G2  5.0 | G3  5.0 | BE (5 sending) 20.0 |');
    expect(line).not.toContain('BE6 ');
  });
});
