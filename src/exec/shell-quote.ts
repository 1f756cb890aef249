// POSIX single-quoting for command lines built from paths and unit names.

/** `s` as one shell word: unchanged when it is plain, else single-quoted. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
