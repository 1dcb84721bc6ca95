/** Where every command's result and every error goes: one JSON document with --json, readable text otherwise. */
export class Output {
  constructor(
    private readonly isJson: () => boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  result<T>(data: T, asText: (data: T) => string): void {
    this.stdout.write(`${this.isJson() ? JSON.stringify(data, null, 2) : asText(data)}\n`);
  }

  /** A problem that did not stop the command (on stderr, like errors). */
  warning(message: string): void {
    this.stderr.write(`${this.isJson() ? JSON.stringify({ warning: message }) : `warning: ${message}`}\n`);
  }

  error(message: string): void {
    this.stderr.write(`${this.isJson() ? JSON.stringify({ error: message }) : `error: ${message}`}\n`);
  }
}

type Cell = string | number | boolean | Date | null | undefined;

/** A plain left-aligned text table; dates as ISO timestamps, missing values as "-". */
export function table<Row extends Record<string, Cell>>(rows: readonly Row[], columns: readonly (keyof Row & string)[]): string {
  if (rows.length === 0) return "(none)";
  const show = (cell: Cell) => (cell instanceof Date ? cell.toISOString() : cell == null ? "-" : String(cell));
  const lines = [columns, ...rows.map((row) => columns.map((column) => show(row[column])))];
  const widths = columns.map((_, i) => Math.max(...lines.map((line) => line[i]!.length)));
  return lines.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
