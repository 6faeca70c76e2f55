/**
 * JSON with 64-bit integers. qemu-ga's interface counters are unsigned 64-bit and pass 2^53
 * after days at 100 Gbit/s; JSON.parse would round them silently. Integers that are not safe
 * JavaScript numbers become bigint; everything else parses as JSON.parse would.
 */

/** A parsed JSON value in which unsafe integers are bigint. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** Error for text that is not one JSON value. */
export class JsonParseError extends Error {
  readonly code = 'E_JSON_PARSE';
  constructor(reason: string, readonly at: number) {
    super(`invalid JSON at offset ${at}: ${reason}`);
    this.name = 'JsonParseError';
  }
}

// 16+ digit runs are the only way to write an integer JSON.parse might round; without one the
// built-in parser is exact and much faster, which is the common case at every tick.
const LONG_DIGITS = /[0-9]{16}/;

/** Options of parseJsonBig. */
export interface JsonParseOptions {
  /**
   * Deepest nesting of arrays and objects accepted; deeper text is refused by a linear scan
   * before any parsing, so a hostile line of a million "[" costs one pass, not a parse.
   */
  readonly maxDepth?: number;
}

/** Parses JSON text, keeping integers beyond Number.MAX_SAFE_INTEGER exact as bigint. */
export function parseJsonBig(text: string, opts: JsonParseOptions = {}): JsonValue {
  if (opts.maxDepth !== undefined) {
    const at = depthExceededAt(text, opts.maxDepth);
    if (at >= 0) throw new JsonParseError(`nested deeper than ${opts.maxDepth} levels`, at);
  }
  if (!LONG_DIGITS.test(text)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch (e) {
      throw new JsonParseError((e as Error).message, 0);
    }
  }
  return new BigJsonParser(text).parseDocument();
}

// Offset of the bracket that opens level maxDepth + 1, or -1. Brackets inside strings do not
// count; the scan does not validate anything else (the parser does that afterwards).
function depthExceededAt(text: string, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return -1;
}

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class BigJsonParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseDocument(): JsonValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) throw new JsonParseError('unexpected trailing data', this.i);
    return v;
  }

  private ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private value(): JsonValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    return this.number();
  }

  private literal<T extends JsonValue>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    throw new JsonParseError(`unexpected ${JSON.stringify(this.s.slice(this.i, this.i + 10))}`, this.i);
  }

  private number(): number | bigint {
    NUMBER_RE.lastIndex = this.i;
    const m = NUMBER_RE.exec(this.s);
    if (!m) throw new JsonParseError(this.i >= this.s.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(this.s[this.i])}`, this.i);
    this.i += m[0].length;
    const n = Number(m[0]);
    if (Number.isSafeInteger(n) || !/^-?[0-9]+$/.test(m[0])) return n;
    return BigInt(m[0]);
  }

  private string(): string {
    const start = this.i;
    this.i++;
    let escaped = false;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '\\') {
        escaped = true;
        this.i += 2;
        continue;
      }
      if (c === '"') {
        this.i++;
        const raw = this.s.slice(start, this.i);
        if (!escaped) return raw.slice(1, -1);
        try {
          return JSON.parse(raw) as string;
        } catch (e) {
          throw new JsonParseError((e as Error).message, start);
        }
      }
      this.i++;
    }
    throw new JsonParseError('unterminated string', start);
  }

  private array(): JsonValue[] {
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') throw new JsonParseError('expected , or ] in array', this.i - 1);
    }
  }

  private object(): { [key: string]: JsonValue } {
    this.i++;
    const out: { [key: string]: JsonValue } = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw new JsonParseError('expected a string key', this.i);
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') throw new JsonParseError('expected :', this.i - 1);
      // defineProperty keeps a "__proto__" key as data instead of changing the prototype.
      Object.defineProperty(out, k, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') throw new JsonParseError('expected , or } in object', this.i - 1);
    }
  }
}

/** Reads a JSON counter (number or bigint) as an exact non-negative bigint; null if it is not one. */
export function toCounter(v: JsonValue | undefined): bigint | null {
  if (typeof v === 'bigint') return v >= 0n ? v : null;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return null;
}

/** JSON.stringify that writes bigint as a JSON integer (for requests and fakes). */
export function stringifyJsonBig(v: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') {
      marks.push(x.toString());
      return `\u0000big${marks.length - 1}\u0000`;
    }
    return x;
  });
  if (marks.length === 0) return text;
  return text.replace(/"\\u0000big([0-9]+)\\u0000"/g, (_m, i: string) => marks[Number(i)] ?? '0');
}
