// @peculiar/x509 signs through WebCrypto; point it at Node's on first use (no work at import time).
import { webcrypto } from 'node:crypto';
// @peculiar/x509 loads tsyringe, which needs the Reflect metadata polyfill loaded first
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

let ready = false;

export function useNodeWebCrypto(): typeof x509 {
  if (!ready) {
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    ready = true;
  }
  return x509;
}
