/**
 * Field schemas shared by the config file and libvirt metadata, so a rate or a MAC address is
 * checked by one rule wherever it is written. Messages are phrased to follow the value:
 * `vms.web1.guarantee: "10gbitt" is not a rate: ...`.
 */
import { z } from 'zod';
import { isLoopbackHost, parseListenAddress, type ListenAddress } from '../util/listen-address.ts';
import { parseRateBps, RateParseError } from '../units/rate.ts';
import { isKernelIfaceName } from '../util/iface-name.ts';

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

/** A Linux interface name: what the kernel accepts (src/util/iface-name.ts), 1 to 15 bytes. */
export const ifaceNameField = z
  .string({ error: 'must be an interface name (a string such as "enp65s0f0")' })
  .refine(isKernelIfaceName, {
    message: 'is not a valid interface name: 1 to 15 bytes without "/", ":" or spaces (see `ip link`)',
  });

/** A MAC address "52:54:00:ab:cd:ef", any case; stored lower-case so lookups compare equal. */
export const macField = z
  .string({ error: 'must be a MAC address string such as "52:54:00:ab:cd:ef"' })
  .refine((s) => /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s), {
    message: 'is not a MAC address: write six hex pairs separated by ":" (e.g. "52:54:00:ab:cd:ef")',
  })
  .transform((s) => s.toLowerCase());

/**
 * Bounds of a Best-Effort weight. A weight is a relative share: a spread of 10^5 is more than
 * any tariff needs, and the bounds keep one VM from starving every other one (a weight of
 * 1e308 left the others a share that rounds to nothing).
 */
export const MIN_WEIGHT = 0.01;
export const MAX_WEIGHT = 1000;
/** The weight rule as errors state it. */
export const WEIGHT_RULE = `must be a number from ${MIN_WEIGHT} to ${MAX_WEIGHT} (a weight is a relative share, e.g. 1 or 2)`;

/** True for a weight within [MIN_WEIGHT, MAX_WEIGHT]. */
export function isValidWeight(n: number): boolean {
  return Number.isFinite(n) && n >= MIN_WEIGHT && n <= MAX_WEIGHT;
}

/** A share for weighted policies, within [MIN_WEIGHT, MAX_WEIGHT]. */
export const weightField = z
  .number({ error: WEIGHT_RULE })
  .refine(isValidWeight, { message: WEIGHT_RULE });

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

