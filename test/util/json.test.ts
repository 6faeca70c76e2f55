import { describe, expect, it } from 'vitest';
import { parseJsonBig, stringifyJsonBig, toCounter, type JsonValue } from '../../src/util/json.ts';
import { LineReader } from '../../src/agent/line-reader.ts';

describe('parseJsonBig', () => {
  it.each<[string, JsonValue]>([
    ['{"a": 1, "b": [true, null, "x"]}', { a: 1, b: [true, null, 'x'] }],
    ['18446744073709551615', 18446744073709551615n],
    ['9007199254740993', 9007199254740993n],
    ['9007199254740991', 9007199254740991],
    ['-9223372036854775808', -9223372036854775808n],
    ['{"tx-bytes": 12345678901234567890, "f": 1.5e3}', { 'tx-bytes': 12345678901234567890n, f: 1500 }],
    ['{"s": "1234567890123456789 \\"q\\" \\u00e9", "n": 1234567890123456789}', { s: '1234567890123456789 "q" é', n: 1234567890123456789n }],
    ['[1234567890123456.5]', [1234567890123456.5]],
  ])('%s', (text, want) => {
    expect(parseJsonBig(text)).toEqual(want);
  });

  it.each(['{"a": 1', '{"a" 1}', '[1,]', '12345678901234567890 x', '"unterminated 12345678901234567', '{"a": tru}', ''])('rejects %j with E_JSON_PARSE', (text) => {
    expect(() => parseJsonBig(text)).toThrow(expect.objectContaining({ code: 'E_JSON_PARSE' }));
  });

  it('keeps a "__proto__" key as data', () => {
    const v = parseJsonBig('{"__proto__": {"x": 12345678901234567890}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
  });

  it.each<[JsonValue | undefined, bigint | null]>([
    [5, 5n], [18446744073709551615n, 18446744073709551615n], [-1, null], [1.5, null], ['5', null], [undefined, null],
  ])('toCounter(%s) = %s', (v, want) => {
    expect(toCounter(v)).toBe(want);
  });

  it('refuses nesting deeper than maxDepth before parsing, counting brackets in strings as text', () => {
    expect(parseJsonBig('[[[1]]]', { maxDepth: 3 })).toEqual([[[1]]]);
    expect(() => parseJsonBig('[[[[1]]]]', { maxDepth: 3 })).toThrow(expect.objectContaining({ code: 'E_JSON_PARSE', message: expect.stringMatching(/nested deeper than 3/) }));
    expect(parseJsonBig(String.raw`{"a":"[[[[[[\"[[["}`, { maxDepth: 1 })).toEqual({ a: '[[[[[["[[[' });
    // A million brackets: refused by the scan, no parser recursion (BigJsonParser would overflow the stack).
    expect(() => parseJsonBig(`${'['.repeat(1_000_000)}12345678901234567890`, { maxDepth: 32 })).toThrow(expect.objectContaining({ code: 'E_JSON_PARSE' }));
  });

  it('writes bigint back exactly', () => {
    expect(stringifyJsonBig({ a: 18446744073709551615n, b: [1n] })).toBe('{"a":18446744073709551615,"b":[1]}');
  });
});

describe('LineReader', () => {
  it.each<[string, number[][], string[]]>([
    ['splits lines across chunks', [[...Buffer.from('{"a"')], [...Buffer.from(':1}\n{"b":2}\n')]], ['{"a":1}', '{"b":2}']],
    ['strips a leading sentinel', [[0xff, ...Buffer.from('{"return":5}\n')]], ['{"return":5}']],
    ['skips blank lines', [[...Buffer.from('\n\n x \n')]], ['x']],
  ])('%s', (_name, chunks, want) => {
    const r = new LineReader(1000);
    r.setIdle(false);
    const got = chunks.flatMap((c) => r.push(Buffer.from(c)));
    expect(got).toEqual(want.map((text) => ({ kind: 'line', text })));
  });

  it('discards everything before the sentinel after a resync', () => {
    const r = new LineReader(1000);
    r.setIdle(false);
    expect(r.push(Buffer.from('{"half'))).toEqual([]);
    r.discardUntilSentinel();
    expect(r.push(Buffer.from('":1}\n{"stale":1}\n'))).toEqual([]);
    expect(r.push(Buffer.from([0xff, ...Buffer.from('{"return":7}\n')]))).toEqual([{ kind: 'line', text: '{"return":7}' }]);
  });

  it('reports an over-long line once and resumes at the next one', () => {
    const r = new LineReader(10);
    r.setIdle(false);
    expect(r.push(Buffer.from('0123456789abc'))).toEqual([]);
    expect(r.push(Buffer.from('def\nok\n'))).toEqual([{ kind: 'overflow', bytes: 16 }, { kind: 'line', text: 'ok' }]);
  });

  it('keeps nothing while idle: whole lines and the rest of a line begun then are dropped unread', () => {
    const r = new LineReader(1000);
    expect(r.push(Buffer.from('{"unasked":1}\n[[[[[[[['))).toEqual([{ kind: 'unsolicited', bytes: 22 }]);
    r.setIdle(false);
    // The line that began while idle is still the guest's, not our reply.
    expect(r.push(Buffer.from(']]]]]]]]\n{"return":1}\n'))).toEqual([{ kind: 'unsolicited', bytes: 9 }, { kind: 'line', text: '{"return":1}' }]);
  });

  it('starts a reply at once when leaving idle at a line boundary', () => {
    const r = new LineReader(1000);
    expect(r.push(Buffer.from('noise\n'))).toEqual([{ kind: 'unsolicited', bytes: 6 }]);
    r.setIdle(false);
    expect(r.push(Buffer.from('{"return":2}\n'))).toEqual([{ kind: 'line', text: '{"return":2}' }]);
  });

  it('drops a half-read reply when its caller gives up', () => {
    const r = new LineReader(1000);
    r.setIdle(false);
    expect(r.push(Buffer.from('{"return": "half'))).toEqual([]);
    r.setIdle(true);
    r.setIdle(false);
    expect(r.push(Buffer.from(' rest"}\n{"return":3}\n'))).toEqual([{ kind: 'unsolicited', bytes: 8 }, { kind: 'line', text: '{"return":3}' }]);
  });

  it('applies the limit the current call set', () => {
    const r = new LineReader(1000);
    r.setIdle(false);
    r.setLimit(4);
    expect(r.push(Buffer.from('12345\n'))).toEqual([{ kind: 'overflow', bytes: 5 }]);
    r.setLimit(100);
    expect(r.push(Buffer.from('12345\n'))).toEqual([{ kind: 'line', text: '12345' }]);
  });
});
