/**
 * Which Host headers daqs answers. DNS rebinding: a web page on attacker.example makes its
 * name resolve to 127.0.0.1, and the victim's browser, on the same machine as daqs, then
 * reads http://attacker.example:9310/api/status as same-origin. The request still says
 * "Host: attacker.example", so refusing names daqs does not know (421 Misdirected Request)
 * closes that door. IP literals and localhost cannot be rebound and are always accepted; so is
 * this machine's own hostname; other names (the DNS name Prometheus scrapes) are listed in
 * daemon.allowedHosts.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';

/** Builds the check for one listener; `extra` are the configured names. */
export function hostChecker(extra: readonly string[] = []): (hostHeader: string | undefined) => boolean {
  const names = new Set(['localhost', hostname().toLowerCase(), ...extra.map((n) => n.toLowerCase())]);
  return (hostHeader) => {
    // No Host at all: not a browser (they always send it), so not a rebinding attempt.
    if (hostHeader === undefined) return true;
    const host = hostOnly(hostHeader);
    return host !== null && (isIP(host) !== 0 || names.has(host) || host.endsWith('.localhost'));
  };
}

// "name:port", "[v6]:port", "name." -> the lowercase name or address; null when malformed.
function hostOnly(header: string): string | null {
  const h = header.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) ?? /^([^:[\]\s]+?)\.?(?::\d{1,5})?$/.exec(h);
  return m?.[1] ?? null;
}
