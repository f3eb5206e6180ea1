// A plain text table: first column left-aligned, the rest right-aligned,
// with titled groups of rows.

export interface RowGroup {
  title: string;
  rows: string[][];
}

export function printGrid(header: string[], groups: RowGroup[]): void {
  const all = [header, ...groups.flatMap((g) => g.rows)];
  const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) => "  " + widths.map((w, c) => (c === 0 ? (row[c] ?? "").padEnd(w) : (row[c] ?? "").padStart(w))).join("  ");
  console.log(line(header));
  for (const group of groups) {
    console.log(group.title);
    for (const row of group.rows) console.log(line(row));
  }
}

export const num = (v: number, digits = 2) => v.toFixed(digits);

/** "PASS" or "MISS" for a figure against its target. */
export const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
