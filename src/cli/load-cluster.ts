// Reads and validates the spec file named by -f; errors name the file and the field. An endpoint
// the spec leaves to DigitalOcean (the API load balancer, or the one master) takes the address the last `up` recorded.
import { open } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { withRecordedEndpoint } from '../providers/digitalocean/recorded-endpoint.ts';
import { maxSpecBytes, parseCluster, specTooLarge, type Cluster } from '../spec/cluster.ts';

/** `-` reads the spec from standard input; its relative paths are then relative to the working directory. */
export async function loadClusterFile(file: string): Promise<Cluster> {
  return withRecordedEndpoint(await readClusterFile(file));
}

async function readClusterFile(file: string): Promise<Cluster> {
  const stdin = file === '-';
  const source = stdin ? '<stdin>' : file;
  let text: string;
  if (stdin) {
    // a stream (a pipe, or the socket a parent process gives), read up to one byte past the cap
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length > maxSpecBytes) throw specTooLarge(source, length);
    }
    return parseCluster(Buffer.concat(chunks).toString('utf8'), source);
  }
  try {
    // read at most one byte past the cap: a huge file (or /dev/zero) is refused without being loaded
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(maxSpecBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, length, buf.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxSpecBytes) {
          const { size } = await fh.stat();
          throw specTooLarge(source, Math.max(size, length));
        }
      }
      text = buf.subarray(0, length).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${source}: cannot read the cluster spec (${code ?? String(e)})`, {
      hint: code === 'ENOENT' ? 'create one with `kubewright init` or pass -f PATH' : 'check the path and its permissions',
    });
  }
  return parseCluster(text, source);
}
