/** Pure parsers for `virsh` text output (LC_ALL=C), kept apart from running virsh so they are table-tested. */

/** Names from `virsh list --state-running --name`: one per line, a blank line at the end. */
export function parseDomainList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Whether a failed `virsh dumpxml` means the domain is gone (it stopped or was undefined
 * between list and dumpxml): that is churn, not a failure to report.
 *   error: failed to get domain 'web1'
 *   error: Requested operation is not valid: domain is not running
 */
export function isDomainGone(stderr: string): boolean {
  return /Domain not found|failed to get domain|domain is not running|no domain with matching/i.test(stderr);
}

/** The meaningful part of virsh's stderr: the last "error: ..." line, else the first non-empty line. */
export function virshErrorText(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => l.startsWith('error: '));
  return (errors.at(-1) ?? lines[0] ?? 'no error message').replace(/^error: /, '');
}
