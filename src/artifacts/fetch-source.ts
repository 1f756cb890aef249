// Reads an artifact source: an http(s) URL or a path (a directory mirror).
import { createWriteStream } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactFetchError } from './artifact-errors.ts';

const isHttp = (s: string): boolean => /^https?:\/\//i.test(s);

export async function fetchText(source: string): Promise<string> {
  if (!isHttp(source)) {
    try {
      return await readFile(source, 'utf8');
    } catch (e) {
      throw new ArtifactFetchError(source, (e as NodeJS.ErrnoException).code ?? String(e), e);
    }
  }
  const res = await fetch(source, { redirect: 'follow' }).catch((e: unknown) => {
    throw new ArtifactFetchError(source, e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e), e);
  });
  if (!res.ok) throw new ArtifactFetchError(source, `HTTP ${res.status}`);
  return res.text();
}

export async function fetchToFile(source: string, dest: string): Promise<void> {
  if (!isHttp(source)) {
    try {
      await copyFile(source, dest);
      return;
    } catch (e) {
      throw new ArtifactFetchError(source, (e as NodeJS.ErrnoException).code ?? String(e), e);
    }
  }
  try {
    const res = await fetch(source, { redirect: 'follow' });
    if (!res.ok || !res.body) throw new ArtifactFetchError(source, `HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(dest, { mode: 0o644 }));
  } catch (e) {
    if (e instanceof ArtifactFetchError) throw e;
    throw new ArtifactFetchError(source, e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e), e);
  }
}
