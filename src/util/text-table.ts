/** Fixed-width text tables for the terminal (`daqs status`, `daqs plan`, experiment summaries). */

/** Options of renderTable. */
export interface TableOptions {
  /** A line of dashes under the header. */
  readonly rule?: boolean;
}

/** The table's lines: every column as wide as its widest cell, two spaces apart, no trailing blanks. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], opts: TableOptions = {}): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...(opts.rule ? [line(widths.map((w) => '-'.repeat(w)))] : []), ...rows.map(line)];
}
