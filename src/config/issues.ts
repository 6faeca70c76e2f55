/**
 * Turns zod's issues into ConfigIssues an operator can act on: the key path as written in the
 * file, the value found, the rule, and for unknown keys the closest known key.
 */
import type { z } from 'zod';
import type { ConfigIssue } from './errors.ts';
import { suggestKey } from './suggest.ts';

/** Renders a key path: `vms.web1.guarantee`, `inventory.static[0].socket`, `vms["web.1"].max`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Whether an issue is admission control (guarantees exceed the port) rather than a malformed value. */
export function isAdmissionIssue(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'custom' && (issue.params as { daqs?: string } | undefined)?.daqs === 'admission';
}

/** Converts zod issues (parsed with reportInput) into ConfigIssues, one per unknown key. */
export function toConfigIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const known = allowedKeysAt(schema, iss.path);
      for (const key of iss.keys) {
        const hint = suggestKey(key, known);
        out.push({
          path: formatPath([...iss.path, key]),
          value: undefined,
          rule: `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; allowed here: ${known.join(', ')}`,
        });
      }
      continue;
    }
    const input = (iss as { input?: unknown }).input;
    if (iss.code === 'invalid_key') {
      // A map key (a VM name) broke its own rule; zod nests the reason.
      out.push({ path: formatPath(iss.path), value: input, rule: iss.issues.map((i) => i.message).join('; ') });
      continue;
    }
    if (iss.code === 'invalid_type' && input === undefined) {
      out.push({ path: formatPath(iss.path), value: undefined, rule: `is required: ${iss.message}` });
      continue;
    }
    out.push({ path: formatPath(iss.path), value: input, rule: iss.message });
  }
  return out;
}

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
}

// Follows a key path through the schema (records and arrays match any key) to the object
// that refused a key, and lists the keys it knows.
function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema;
  let i = 0;
  while (node) {
    const def: Def = (node as unknown as { _zod: { def: Def } })._zod.def;
    if (def.innerType) node = def.innerType;
    else if (def.type === 'pipe') node = def.in;
    else if (i === path.length) return def.shape ? Object.keys(def.shape) : [];
    else if (def.type === 'object') node = def.shape?.[String(path[i++])] as z.ZodType | undefined;
    else if (def.type === 'record' || def.type === 'array') {
      node = def.type === 'record' ? def.valueType : def.element;
      i++;
    } else return [];
  }
  return [];
}
