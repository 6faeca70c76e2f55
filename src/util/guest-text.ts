/**
 * Text from a guest is written by its tenant, who is root in the VM: an agent error, a tc
 * stderr, a version string can be a megabyte long, carry terminal escape sequences (recolour
 * or rewrite an operator's terminal), bidi overrides (make a log line read differently from
 * what it says) or newlines (forge log lines or table rows). Every such string is passed
 * through guestText where it enters daqs (the agent client, the interface parser, exec
 * output), so logs, /api/status, metrics, the web view and `daqs status` only ever see
 * short, printable text.
 */

/** Longest guest string daqs keeps, in characters (code points), "…" included. */
export const GUEST_TEXT_MAX_CHARS = 200;

// ESC-introduced sequences, removed whole so no fragment ("[31m") is left behind: CSI
// (ESC [ ... final byte), OSC/DCS/APC/PM/SOS strings (up to BEL or ESC \, or the end), and
// two-byte escapes. The 8-bit C1 forms (U+009B CSI, U+009D OSC, ...) likewise.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ESCAPE_SEQUENCES = /\u001b\[[0-?]*[ -/]*[@-~]?|\u009b[0-?]*[ -/]*[@-~]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -~]?/g;
// Line breaks and tabs become a space, so words stay apart on one line.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
// Every other C0 control, DEL, C1 control; bidi embeddings, overrides, isolates and marks;
// zero-width characters and the BOM (invisible, they make equal-looking strings differ);
// lone surrogates (not text, and some terminals and JSON consumers choke on them).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * One line of printable text from whatever a guest sent: escape sequences, control and
 * invisible characters removed, line breaks turned into spaces, cut to maxChars code points
 * (the cut marked with "…"). Non-strings become their type's name, so a caller cannot leak
 * an object by accident. Cost is bounded by maxChars, not by the input's length.
 */
export function guestText(value: unknown, maxChars: number = GUEST_TEXT_MAX_CHARS): string {
  if (typeof value !== 'string') return value === null || value === undefined ? '' : `(${typeof value})`;
  // Look at a bounded prefix only: what survives cleaning is at most maxChars long, and an
  // escape-laden prefix eight times that size is already more than anyone will read.
  const window = Math.max(64, maxChars * 8);
  const clipped = value.length > window;
  const cleaned = (clipped ? value.slice(0, window) : value).replace(ESCAPE_SEQUENCES, '').replace(BREAKS, ' ').replace(INVISIBLE, '').trim();
  return cut(cleaned, maxChars, clipped);
}

/**
 * guestText for multi-line output a parser reads (tc's show output): each line cleaned and
 * cut as guestText does, the line breaks kept; at most maxLines lines.
 */
export function guestLines(value: string, maxLineChars: number = GUEST_TEXT_MAX_CHARS, maxLines = 1000): string {
  const lines = value.split(/\r?\n/);
  const kept = lines.slice(0, maxLines).map((line) => guestText(line, maxLineChars));
  return kept.join('\n');
}

function cut(text: string, maxChars: number, alreadyCut: boolean): string {
  // Code points, not UTF-16 units: never split a surrogate pair in two. More than 2 x maxChars
  // units always hold more than maxChars code points, so the rest need not be split.
  const points = Array.from(text.length > maxChars * 2 ? text.slice(0, maxChars * 2) : text);
  const over = text.length > maxChars * 2 || points.length > maxChars;
  if (!over && !alreadyCut) return text;
  return `${points.slice(0, over ? maxChars - 1 : Math.min(points.length, maxChars - 1)).join('')}…`;
}
