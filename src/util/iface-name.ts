/**
 * What Linux accepts as a network interface name (the kernel's dev_valid_name): 1 to 15 bytes,
 * not "." or "..", no "/", ":" or whitespace. Anything else, letters, digits, punctuation such
 * as "+" ";" ">" and any UTF-8, is a name a guest can give its interface, so daqs must handle
 * it (as an argv element, never inside a text daqs builds); a name outside this rule cannot
 * exist and is refused wherever it is read.
 */

/** IFNAMSIZ - 1: the longest interface name, in bytes. */
export const MAX_IFACE_NAME_BYTES = 15;

// isspace() in the C locale, plus NUL (a JSON string can carry "\u0000"; C cannot).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[/:\u0000 \t\n\v\f\r]/;
// A lone surrogate has no UTF-8 form (Buffer would write U+FFFD instead): not a real name.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when the kernel would accept `name` as an interface name. */
export function isKernelIfaceName(name: string): boolean {
  if (name.length === 0 || name === '.' || name === '..' || FORBIDDEN.test(name) || LONE_SURROGATE.test(name)) return false;
  return Buffer.byteLength(name, 'utf8') <= MAX_IFACE_NAME_BYTES;
}
