// Coloured plan output on a terminal, as terraform and git colour theirs: additions green,
// removals red, hunk headers cyan. Off when stdout is not a terminal, when NO_COLOR is set to
// anything non-empty (https://no-color.org), and for TERM=dumb.
import type { Io } from './io.ts';

const sgr = (code: string) => (s: string): string => `\x1b[${code}m${s}\x1b[0m`;
const green = sgr('32');
const red = sgr('31');
const cyan = sgr('36');
const yellow = sgr('33');
const bold = sgr('1');

export function colourEnabled(io: Io, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return io.isTTY === true;
}

const markColour: Record<string, (s: string) => string> = { '+': green, '▶': green, '-': red, '■': red, '~': yellow, '⟳': yellow, '↓': cyan };

/** One line of planText (`host:   ↓ install …` or `host:       +diff line`; groupedPlanText's `w1 (+996):` label too) with colour. */
export function colourPlanLine(line: string): string {
  const diff = /^([^:\s]+(?: \(\+\d+\))?:) {7}(.*)$/.exec(line);
  if (diff) {
    const [, host, body] = diff as unknown as [string, string, string];
    const paint = /^(\+\+\+|---)( |$)/.test(body) ? bold : body.startsWith('+') ? green : body.startsWith('-') ? red : body.startsWith('@@') ? cyan : undefined;
    return paint ? `${host}       ${paint(body)}` : line;
  }
  const action = /^([^:\s]+(?: \(\+\d+\))?:) {3}(\S)( .*)$/.exec(line);
  if (action) {
    const [, host, mark, rest] = action as unknown as [string, string, string, string];
    const paint = markColour[mark];
    return paint ? `${host}   ${paint(mark)}${rest}` : line;
  }
  return line;
}

export function planLinesFor(io: Io, lines: readonly string[]): readonly string[] {
  return colourEnabled(io) ? lines.map(colourPlanLine) : lines;
}
