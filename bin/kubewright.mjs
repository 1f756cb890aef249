#!/usr/bin/env node
// Entry point: runs the compiled CLI in dist/ (written by `npm run build`, which `npm ci`,
// `npm install` and `npm pack` run through the prepare script).

// etcd3's gRPC client sets the TLS servername to the member's IP address, which Node flags
// once per process (DEP0123) although the certificate is still checked against the IP SAN.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === 'object' && rest[0] !== null ? rest[0].code : rest[1];
  if (code === 'DEP0123') return;
  emitWarning(warning, ...rest);
};

let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('/dist/cli/main.js')) throw e;
  process.stderr.write('kubewright: dist/ is missing: run `npm run build` (or `npm ci`) in the kubewright checkout\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv);
