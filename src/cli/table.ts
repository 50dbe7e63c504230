import { termText } from "../boundary/terminal.ts";

/**
 * Fixed-width text table; the last column is not padded so long messages wrap naturally. Every cell
 * is printed through termText (coerced to a string, escape sequences and controls removed).
 */
export function renderTable(header: string[], cells: unknown[][]): string {
  const rows = cells.map((r) => r.map(termText));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === header.length - 1 ? 0 : (r[i] ?? "").length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}
