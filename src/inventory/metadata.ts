/**
 * Per-VM settings carried in libvirt domain metadata, in daqs' own XML namespace:
 *   <daqs:sla xmlns:daqs="https://daqs.dev/xmlns/sla/1" guarantee="10gbit" max="20gbit" weight="2"/>
 * Validated with the same field rules as the config file, so "10gbitt" reads the same here.
 */
import { z } from 'zod';
import { formatIssue } from '../config/errors.ts';
import { isValidWeight, rateBpsField, WEIGHT_RULE } from '../config/fields.ts';
import { toConfigIssues } from '../config/issues.ts';
import { formatRate } from '../units/rate.ts';
import type { SlaSettings } from './types.ts';

export { DAQS_METADATA_ELEMENT, DAQS_METADATA_NS } from '../core/libvirt-names.ts';
/** The prefix our docs use with `virsh metadata --key`. */
export const DAQS_METADATA_KEY = 'daqs';

/** The attributes of <daqs:sla>, all optional; XML attributes are strings. */
export const slaMetadataSchema = z
  .strictObject(
    {
      guarantee: rateBpsField({ allowZero: true }).optional(),
      max: rateBpsField({ allowZero: false }).optional(),
      // An attribute is text: the value shown in errors is the text as written ("-1", "two").
      weight: z
        .string()
        .transform((text, ctx) => {
          const n = Number(text);
          if (text.trim() === '' || !isValidWeight(n)) {
            ctx.addIssue({ code: 'custom', input: text, message: WEIGHT_RULE });
            return z.NEVER;
          }
          return n;
        })
        .optional(),
    },
  )
  .superRefine((m, ctx) => {
    if (m.guarantee !== undefined && m.max !== undefined && m.guarantee > m.max) {
      ctx.addIssue({ code: 'custom', path: ['guarantee'], input: formatRate(m.guarantee), message: `is above max ${formatRate(m.max)}: lower guarantee or raise max` });
    }
  });

/** Validated metadata, or the problems that made daqs ignore it (each naming the attribute and value). */
export type MetadataResult = { readonly ok: true; readonly settings: SlaSettings } | { readonly ok: false; readonly problems: readonly string[] };

/** Validates the attributes of a <daqs:sla> element (namespace declarations already removed). */
export function parseSlaAttributes(attrs: Readonly<Record<string, string>>): MetadataResult {
  const r = slaMetadataSchema.safeParse(attrs, { reportInput: true });
  if (r.success) return { ok: true, settings: { guaranteeBps: r.data.guarantee, maxBps: r.data.max, weight: r.data.weight } };
  const issues = toConfigIssues(slaMetadataSchema, r.error.issues).map((i) => ({ ...i, rule: i.rule.replace('unknown key', 'unknown attribute') }));
  return { ok: false, problems: issues.map(formatIssue) };
}
