import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GUEST_TEXT_MAX_CHARS, guestLines, guestText } from '../../src/util/guest-text.ts';

// What must never survive: C0/C1 controls (ESC included), DEL, bidi controls, zero-width
// characters, lone surrogates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('guestText', () => {
  it.each([
    ['plain text stays', 'Cannot find device "eth1"', 'Cannot find device "eth1"'],
    ['colour codes go, whole', '\u001b[31;1mred\u001b[0m text', 'red text'],
    ['a title-setting OSC goes with its payload', 'a\u001b]0;pwned\u0007b', 'ab'],
    ['an OSC 8 hyperlink keeps only its label', '\u001b]8;;http://evil\u001b\\click\u001b]8;;\u001b\\', 'click'],
    ['8-bit CSI goes', 'x\u009b2Jy', 'xy'],
    ['cursor movement that would rewrite a line goes', 'ok\r\u001b[2Kforged', 'ok forged'],
    ['newlines cannot forge log lines or rows', 'one\nlevel=error two\r\nthree', 'one level=error two three'],
    ['bidi overrides go', 'abc\u202edcba\u202c', 'abcdcba'],
    ['bidi isolates and marks go', '\u2066x\u2069\u200f', 'x'],
    ['zero-width characters go', 'e\u200bth\ufeff0', 'eth0'],
    ['other controls go', 'a\u0000b\u0007c\u007fd\u0085e', 'abcd e'],
    ['unicode text stays', 'vé0 网卡 🚀', 'vé0 网卡 🚀'],
    ['a lone surrogate goes', 'a\ud800b', 'ab'],
  ])('%s', (_name, input, expected) => {
    expect(guestText(input)).toBe(expected);
  });

  it('cuts to 200 characters with a visible mark, at a code point boundary', () => {
    const out = guestText('🚀'.repeat(500));
    expect(Array.from(out)).toHaveLength(GUEST_TEXT_MAX_CHARS);
    expect(out.endsWith('…')).toBe(true);
    expect(out).not.toMatch(UNSAFE);
  });

  it('keeps a 1 MB text with escape sequences to 200 printable characters', () => {
    const huge = `${'\u001b[41m\u001b]0;x\u0007AAAA\n'.repeat(100_000)}`;
    const out = guestText(huge);
    expect(Array.from(out).length).toBeLessThanOrEqual(GUEST_TEXT_MAX_CHARS);
    expect(out).toMatch(/^AAAA AAAA/);
    expect(out.endsWith('…')).toBe(true);
    expect(out).not.toMatch(UNSAFE);
  });

  it('turns non-strings into a harmless word', () => {
    expect(guestText({ toString: () => '\u001b[31m' })).toBe('(object)');
    expect(guestText(undefined)).toBe('');
    expect(guestText(12)).toBe('(number)');
  });

  it('leaves no unsafe character and never exceeds the bound, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), fc.integer({ min: 1, max: 300 }), (s, max) => {
        const out = guestText(s, max);
        expect(out).not.toMatch(UNSAFE);
        expect(Array.from(out).length).toBeLessThanOrEqual(max);
      }),
      { numRuns: 300 },
    );
  });
});

describe('guestLines', () => {
  it('keeps the lines a parser needs and cleans each one', () => {
    expect(guestLines('qdisc htb dac5: root\n Sent 10 bytes\u001b[2J\n')).toBe('qdisc htb dac5: root\nSent 10 bytes\n');
  });

  it('bounds the number of lines', () => {
    expect(guestLines('x\n'.repeat(5000), 200, 10).split('\n')).toHaveLength(10);
  });
});
