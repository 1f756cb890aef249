// Why a binary could not be had. Host failures (exit 1): the host that needs it stops, others go on.
import { InputError, KubewrightError } from '../errors.ts';

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

export class ArtifactTooLargeError extends KubewrightError {
  constructor(source: string, maxBytes: number, size?: number, limitFrom = 'the download size limit') {
    super(`artifact ${source}: larger than ${maxBytes} bytes (${limitFrom})${size === undefined ? '' : `: ${size} bytes`}; download stopped, nothing was kept`, {
      hint: 'a release binary is ~100 MiB at most: check artifacts.mirror and the URL; a locked artifact may not exceed its recorded size',
    });
  }
}

export class ArchiveMemberError extends KubewrightError {
  constructor(url: string, member: string, why: string) {
    super(`artifact ${url}: archive member ${member} ${why}; nothing was installed`, {
      hint: 'release archives hold plain files only: the archive is not the one kubewright expects; check artifacts.mirror and the lockfile',
    });
  }
}

/** Plain http from a non-loopback host for an artifact whose digest nothing else fixes. Exit 2. */
export class InsecureSourceError extends InputError {
  constructor(source: string, url: string, lockPath: string | undefined) {
    super(`artifacts.mirror: ${source} is plain http and ${url} is neither locked${lockPath ? ` in ${lockPath}` : ''} nor pinned in artifacts.checksums; its checksum would come over the same unauthenticated channel`, {
      hint: 'use an https:// or directory mirror, or lock the artifacts once over https (`kubewright artifacts lock -f <spec>`) and commit the lockfile',
    });
  }
}

/** The spec's pin and the lockfile disagree about an artifact. Exit 2. */
export class LockConflictError extends InputError {
  constructor(url: string, pinned: string, locked: string, lockPath: string) {
    super(`artifact ${url}: artifacts.checksums pins ${pinned} but ${lockPath} records ${locked}`, {
      hint: `if the new pin is intended, run \`kubewright artifacts lock --update -f <spec>\`; otherwise correct the pin`,
    });
  }
}
