import { createInterface } from 'node:readline/promises';

/** Asks on the terminal (prompt on stderr); true only for a typed "yes". */
export async function confirmOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === 'yes';
  } finally {
    rl.close();
  }
}
