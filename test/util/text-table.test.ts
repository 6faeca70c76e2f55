import { describe, expect, it } from 'vitest';
import { renderTable } from '../../src/util/text-table.ts';

describe('renderTable', () => {
  it('makes each column as wide as its widest cell, two spaces apart, without trailing blanks', () => {
    expect(renderTable(['VM', 'RATE', 'NOTE'], [['web-1', '1gbit', ''], ['b', '12.5gbit', 'capped']])).toEqual([
      'VM     RATE      NOTE',
      'web-1  1gbit',
      'b      12.5gbit  capped',
    ]);
  });

  it('draws a rule under the header on request, and handles rows shorter than the header', () => {
    expect(renderTable(['policy', 'x'], [['daqs']], { rule: true })).toEqual(['policy  x', '------  -', 'daqs']);
  });
});
