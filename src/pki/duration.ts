// Durations as cfssl writes them in ca-config.json (Go's time.ParseDuration: "8760h", "1h30m")
// plus days ("30d") for the renewal threshold users type on the command line.

const unitMs: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** Milliseconds of a duration like `8760h`, `30d`, `1h30m`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|d|h|m|s))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|d|h|m|s)/g)) {
    const unit = unitMs[m[2] ?? ''];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
  }
  return total > 0 ? Math.round(total) : undefined;
}

/** `8760h` style text for a whole number of hours, otherwise days. */
export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  return `${Math.round(ms / 1000)}s`;
}
