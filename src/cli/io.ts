// The only channel to the terminal: commands print through this so tests can capture output.
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** standard output is a terminal (colour, progress displays); absent means no */
  readonly isTTY?: boolean;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  get isTTY() {
    return process.stdout.isTTY === true;
  },
};
