import { InvalidArgumentError } from 'commander';
/** Output helpers: results on stdout, progress and errors on stderr, so that `--json` output stays parseable. */
export const out = (line = ''): void => void process.stdout.write(`${line}\n`);
export const progress = (line: string): void => void process.stderr.write(`${line}\n`);
export const printJson = (value: unknown): void => out(JSON.stringify(value, null, 2));

type Cell = string | number | boolean | null | undefined;

/** A plain aligned table; `null`/`undefined` show as `-`. */
export function printTable(columns: string[], rows: Cell[][]): void {
  printAligned([columns, ...rows]);
}

/** `name  value` lines, the values aligned: a record shown without a header. */
export function printFields(fields: Record<string, Cell>): void {
  printAligned(Object.entries(fields));
}

function printAligned(rows: Cell[][]): void {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))));
  if (cells.length === 0) return;
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  for (const r of cells) out(line(r));
}

/**
 * An option's parser. Commander prefixes the message with the option and the value given
 * ("option '--limit <n>' argument 'x' is invalid."), so the message does not name the option again.
 */
export function parsePositiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`Expected a whole number from 1 to ${max}.`);
    return n;
  };
}
