/**
 * Field schemas shared by the config file and libvirt metadata, so a rate or a MAC address is
 * checked by one rule wherever it is written. Messages are phrased to follow the value:
 * `vms.web1.guarantee: "10gbitt" is not a rate: ...`.
 */
import { z } from 'zod';
import { isLoopbackHost, parseListenAddress, type ListenAddress } from '../util/listen-address.ts';
import { parseRateBps, RateParseError } from '../units/rate.ts';

export type { ListenAddress };

/** A rate written as "10gbit", "500mbit", "1.5G" (tc units) or a number of bits/s; parsed to bits/s. */
export function rateBpsField(opts: { allowZero: boolean }) {
  return z
    .union([z.string(), z.number()], { error: 'must be a rate: a string like "10gbit" or "500mbit", or a number of bits/s' })
    .transform((value, ctx) => {
      let bps: number;
      try {
        bps = parseRateBps(value);
      } catch (e) {
        ctx.addIssue({ code: 'custom', input: value, message: `is not a rate: ${rateReason(e)}` });
        return z.NEVER;
      }
      if (!opts.allowZero && bps <= 0) {
        ctx.addIssue({ code: 'custom', input: value, message: 'must be more than 0 bit/s (for example "1gbit")' });
        return z.NEVER;
      }
      return bps;
    });
}

// RateParseError's message repeats the input, which the issue already shows; keep the reason.
function rateReason(e: unknown): string {
  if (e instanceof RateParseError) return e.message.replace(/^invalid rate .*?: /, '');
  return e instanceof Error ? e.message : String(e);
}

/** A Linux interface name: 1 to 15 bytes (IFNAMSIZ), no '/', ':' or whitespace (dev_valid_name). */
export const ifaceNameField = z
  .string({ error: 'must be an interface name (a string such as "enp65s0f0")' })
  .refine((s) => /^[^\s/:]{1,15}$/.test(s) && s !== '.' && s !== '..', {
    message: 'is not a valid interface name: 1 to 15 characters without "/", ":" or spaces (see `ip link`)',
  });

/** A MAC address "52:54:00:ab:cd:ef", any case; stored lower-case so lookups compare equal. */
export const macField = z
  .string({ error: 'must be a MAC address string such as "52:54:00:ab:cd:ef"' })
  .refine((s) => /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s), {
    message: 'is not a MAC address: write six hex pairs separated by ":" (e.g. "52:54:00:ab:cd:ef")',
  })
  .transform((s) => s.toLowerCase());

/** A positive share for weighted policies. */
export const weightField = z
  .number({ error: 'must be a number greater than 0 (e.g. 1, 2, 0.5)' })
  .refine((n) => Number.isFinite(n) && n > 0, { message: 'must be greater than 0 (a weight is a relative share, e.g. 1 or 2)' });

/** Whether only this machine can reach the address (unix socket, 127.0.0.0/8, ::1, localhost). */
export function isLoopback(addr: ListenAddress): boolean {
  return addr.kind === 'unix' || isLoopbackHost(addr.host);
}

/** A listen address string, parsed. */
export const listenField = z
  .string({ error: 'must be a listen address string: "HOST:PORT" or an absolute unix socket path' })
  .transform((text, ctx): ListenAddress => {
    // The server's parser, so the config accepts exactly what the server can listen on.
    try {
      return parseListenAddress(text);
    } catch (e) {
      const reason = (e as Error).message.replace(/^invalid listen address .*?: /, '');
      ctx.addIssue({ code: 'custom', input: text, message: `is not a listen address: ${reason}, or an absolute unix socket path` });
      return z.NEVER;
    }
  });

