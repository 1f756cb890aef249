// Why a binary could not be had. Host failures (exit 1): the host that needs it stops, others go on.
import { KubewrightError } from '../errors.ts';

export class ChecksumMismatchError extends KubewrightError {
  constructor(url: string, expected: string, actual: string, source: string) {
    super(`artifact ${url}: sha256 mismatch (expected ${expected} from ${source}, got ${actual}); nothing was installed`, {
      hint: 'the download or the mirror copy is corrupt or was replaced: re-fetch it, check artifacts.mirror, or correct the pin in artifacts.checksums',
    });
  }
}

export class ArtifactFetchError extends KubewrightError {
  constructor(url: string, why: string, cause?: unknown) {
    super(`artifact ${url}: download failed: ${why}`, {
      hint: 'check the network or set artifacts.mirror to a directory or URL that holds <host>/<path> copies of the release files',
      cause,
    });
  }
}

export class MissingChecksumError extends KubewrightError {
  constructor(url: string) {
    super(`artifact ${url}: no checksum is published for it and none is pinned`, {
      hint: `add its sha256 under artifacts.checksums in the spec ("${url}": <sha256>), after checking the file yourself`,
    });
  }
}
