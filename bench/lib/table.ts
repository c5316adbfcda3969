/** One printed table: a title, a header row, body rows and notes printed under it. */
export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  notes?: string[];
}

/** Prints a Markdown-style table (readable in a terminal, pasteable into an issue). */
export function printTable(table: Table): void {
  const widths = table.headers.map((header, column) =>
    Math.max(header.length, ...table.rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  console.log(`\n## ${table.title}\n`);
  console.log(line(table.headers));
  console.log(
    `| ${widths.map((width, column) => (column === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`,
  );
  for (const row of table.rows) console.log(line(row));
  if (table.notes && table.notes.length > 0) {
    console.log('');
    for (const note of table.notes) console.log(note);
  }
}

/** A number with thousands separators and `digits` decimals. */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `value / baseline`, like `3.21x`. */
export function formatRatio(value: number, baseline: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return 'n/a';
  const ratio = value / baseline;
  return `${ratio.toFixed(ratio >= 100 ? 0 : 2)}x`;
}

/** `OK` or `MISSED` (never hidden); `-` for rows without a target, such as baselines. */
export function status(met: boolean | undefined): string {
  if (met === undefined) return '-';
  return met ? 'OK' : 'MISSED';
}
