// The one plain-column table every command prints (apply, up, verify, pki, artifacts): each column
// but the last padded to its widest cell, `gap` spaces between columns, no trailing blanks.

export function formatTable(rows: readonly (readonly string[])[], opts: { gap?: number; indent?: string } = {}): string[] {
  const gap = opts.gap ?? 2;
  const indent = opts.indent ?? '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `${indent}${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + gap))).join('')}`.trimEnd());
}
