import { readFileSync, writeFileSync } from "node:fs";

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** How the figures were taken, printed under the table. */
  method: string;
}

const START = "<!-- bench:start (written by `npm run bench`; edit outside these markers) -->";
const END = "<!-- bench:end -->";

export function renderTable(table: Table): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [
    `### ${table.title}`,
    "",
    line(table.columns),
    line(table.columns.map(() => "---")),
    ...table.rows.map(line),
    "",
    table.method,
    "",
  ].join("\n");
}

/** Replaces the generated part of BENCHMARKS.md, keeping what is written around it. */
export function writeReport(path: string, generated: string): void {
  let current: string;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    current = `# Benchmarks\n\n${START}\n${END}\n`;
  }
  const before = current.includes(START) ? current.slice(0, current.indexOf(START)) : `${current}\n`;
  const after = current.includes(END) ? current.slice(current.indexOf(END) + END.length) : "\n";
  writeFileSync(path, `${before}${START}\n${generated}\n${END}${after}`);
}

export const fixed = (value: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
