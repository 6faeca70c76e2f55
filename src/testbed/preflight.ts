/** Checks made before anything is built: root, and the programs the emulated host runs. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TestbedError } from './errors.ts';

/** Programs the emulated host runs, with the Debian package that provides each. */
export const REQUIRED_BINARIES = [
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'tc', pkg: 'iproute2' },
  { bin: 'qemu-ga', pkg: 'qemu-guest-agent' },
  { bin: 'iperf', pkg: 'iperf' },
] as const;

/** Absolute paths of the required programs. */
export type BinaryPaths = Readonly<Record<(typeof REQUIRED_BINARIES)[number]['bin'], string>>;

/** Refuses to go on unless `uid` is root: namespaces, tc and qemu-ga in namespaces need it. */
export function checkRoot(uid: number | undefined = process.getuid?.()): void {
  if (uid !== 0) {
    throw new TestbedError('E_TESTBED_NOT_ROOT', `the emulated host needs root (namespaces, veth, tc); running as uid ${String(uid)}. Run it as root, e.g. \`sudo npx daqs testbed up\`.`);
  }
}

/** Finds every required program on `searchPath` (sbin dirs added, as root's PATH has them); names all missing ones. */
export function findBinaries(searchPath = `${process.env.PATH ?? ''}${delimiter}/usr/sbin${delimiter}/sbin`): BinaryPaths {
  const dirs = searchPath.split(delimiter).filter((d) => d !== '');
  const found: Partial<Record<string, string>> = {};
  const missing: string[] = [];
  for (const { bin, pkg } of REQUIRED_BINARIES) {
    const hit = dirs.map((d) => join(d, bin)).find((p) => {
      try {
        accessSync(p, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (hit) found[bin] = hit;
    else missing.push(`${bin} (Debian package ${pkg})`);
  }
  if (missing.length > 0) {
    throw new TestbedError('E_TESTBED_MISSING_BINARY', `missing program(s): ${missing.join(', ')}. Install them (\`npm run setup\` does) and run again.`);
  }
  return found as BinaryPaths;
}
