/**
 * The production unit is hardened (systemd-analyze's exposure score at most 3.0, "OK") and
 * keeps none of what only the emulated host needs; those extras live in a drop-in of their
 * own. systemd-analyze reads the files offline: no systemd needs to run.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/util/exec.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function analyze(args: string[]): Promise<{ score: number; lines: string[] }> {
  const r = await runCommand(['systemd-analyze', 'security', '--offline=true', '--no-pager', ...args], { timeoutMs: 60_000 });
  const text = r.stdout + r.stderr;
  const m = /Overall exposure level for daqs\.service: ([0-9.]+)/.exec(text);
  if (!m) throw new Error(`systemd-analyze printed no exposure level:\n${text}`);
  return { score: Number(m[1]), lines: text.split('\n') };
}

const passes = (lines: string[], check: string): boolean => lines.some((l) => l.includes(check) && l.trimStart().startsWith('✓'));

describe('deploy/daqs.service', () => {
  it('scores 3.0 or better ("OK") in systemd-analyze security', async () => {
    const { score, lines } = await analyze([join(ROOT, 'deploy/daqs.service')]);
    console.log(`[guard] systemd-analyze security --offline=true deploy/daqs.service: ${score}`);
    expect(score).toBeLessThanOrEqual(3.0);
    // What only the emulated host needs stays out of the production unit.
    for (const check of ['CapabilityBoundingSet=~CAP_SYS_ADMIN', 'CapabilityBoundingSet=~CAP_SYS_MODULE', 'RestrictNamespaces=~', 'SystemCallFilter=~@mount', 'ProtectKernelModules=']) {
      expect(passes(lines, check), check).toBe(true);
    }
  });

  it('the emulated host\'s extras are a separate drop-in that adds exactly those', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gdunit-'));
    try {
      const dir = join(root, 'etc/systemd/system');
      mkdirSync(join(dir, 'daqs.service.d'), { recursive: true });
      cpSync(join(ROOT, 'deploy/daqs.service'), join(dir, 'daqs.service'));
      cpSync(join(ROOT, 'deploy/daqs-testbed.conf'), join(dir, 'daqs.service.d/testbed.conf'));
      const { score, lines } = await analyze([`--root=${root}`, 'daqs.service']);
      console.log(`[guard] with deploy/daqs-testbed.conf (emulated host only): ${score}`);
      expect(passes(lines, 'CapabilityBoundingSet=~CAP_SYS_ADMIN')).toBe(false);
      expect(passes(lines, 'SystemCallFilter=~@mount')).toBe(false);
      // Still the production unit underneath: no new address families, no devices, no new privileges.
      for (const check of ['NoNewPrivileges=', 'PrivateDevices=', 'RestrictAddressFamilies=~AF_PACKET', 'ProtectHome=']) expect(passes(lines, check), check).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
