// Flags mean the same on every command (issue 13 "Conventions", issue 17 "Flags match across
// commands"): this walks the real command tree, so a command added later is checked too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command, Option } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { runCli } from '../helpers/run-cli.ts';

const silent = { out: () => undefined, err: () => undefined };

/** Every runnable command with its path (`pki issue`), the leaves of the tree. */
async function leafCommands(): Promise<{ path: string[]; cmd: Command }[]> {
  const out: { path: string[]; cmd: Command }[] = [];
  const walk = (c: Command, path: string[]): void => {
    if (c.commands.length === 0) out.push({ path, cmd: c });
    for (const s of c.commands) walk(s, [...path, s.name()]);
  };
  walk(await buildProgram(silent), []);
  return out;
}

const timeFlag = /^--(wait|timeout|poll-interval|wait-for-ssh|wait-timeout|threshold|ca-expiry)$/;

test('-o means --output text|json and -f means --file on every command', async () => {
  for (const { path, cmd } of await leafCommands()) {
    for (const o of cmd.options as Option[]) {
      if (o.short === '-o') {
        assert.equal(o.long, '--output', `${path.join(' ')}: -o is ${o.long}`);
        assert.deepEqual(o.argChoices, ['text', 'json'], `${path.join(' ')}: -o choices`);
      }
      if (o.short === '-f') assert.equal(o.long, '--file', `${path.join(' ')}: -f is ${o.long}`);
      if (o.long === '--output') assert.equal(o.short, '-o', `${path.join(' ')}: --output has no -o`);
    }
  }
});

test('every time flag takes a duration (no flag counts bare seconds)', async () => {
  let seen = 0;
  for (const { path, cmd } of await leafCommands()) {
    for (const o of cmd.options as Option[]) {
      assert.doesNotMatch(o.flags, /<(seconds|ms|millis)/, `${path.join(' ')} ${o.flags}`);
      if (o.long && timeFlag.test(o.long)) {
        assert.match(o.flags, /<duration>/, `${path.join(' ')} ${o.flags}`);
        seen++;
      }
    }
  }
  assert.ok(seen >= 8, `found ${seen} time flags`);
});

test('time flags accept 2m and reject a bare number with exit 2 naming the flag', async () => {
  for (const { path, cmd } of await leafCommands()) {
    for (const o of cmd.options as Option[]) {
      if (!o.long || !timeFlag.test(o.long)) continue;
      // the command's other mandatory options (pki rotate-ca --stage) get a valid value, so the time flag is what is judged
      const others = (cmd.options as Option[]).filter((m) => m.mandatory && m.long && m.long !== '--file').flatMap((m) => [m.long!, m.argChoices?.[0] ?? 'x']);
      const bare = await runCli(...path, '-f', '/nonexistent/cluster.yaml', ...others, o.long, '30');
      assert.equal(bare.code, 2, `${path.join(' ')} ${o.long} 30`);
      assert.match(bare.stderr, new RegExp(`${o.long}: not a duration`), `${path.join(' ')} ${o.long} 30: ${bare.stderr}`);
      // a duration passes the flag check and the command goes on to read the (missing) spec
      const ok = await runCli(...path, '-f', '/nonexistent/cluster.yaml', ...others, o.long, '2m');
      assert.equal(ok.code, 2, `${path.join(' ')} ${o.long} 2m`);
      assert.match(ok.stderr, /\/nonexistent\/cluster\.yaml: cannot read/, `${path.join(' ')} ${o.long} 2m: ${ok.stderr}`);
    }
  }
});

test('a long flag is a switch on every command or takes a value on every command', async () => {
  const arity = new Map<string, { takesValue: boolean; where: string }>();
  for (const { path, cmd } of await leafCommands()) {
    for (const o of cmd.options as Option[]) {
      if (!o.long) continue;
      const takesValue = o.required || o.optional;
      const seen = arity.get(o.long);
      if (seen) assert.equal(takesValue, seen.takesValue, `${o.long}: ${path.join(' ')} and ${seen.where} disagree on whether it takes a value`);
      else arity.set(o.long, { takesValue, where: path.join(' ') });
    }
  }
});

test('every destroying command accepts --yes, also where it never asks (lab down)', async () => {
  const downs = (await leafCommands()).filter(({ path }) => path.at(-1) === 'down');
  assert.deepEqual(downs.map((d) => d.path.join(' ')).sort(), ['down', 'lab down']);
  for (const { path, cmd } of downs) assert.ok((cmd.options as Option[]).some((o) => o.long === '--yes'), `${path.join(' ')} has --yes`);
  const r = await runCli('lab', 'down', '-f', '/nonexistent/cluster.yaml', '--yes');
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /unknown option/);
  assert.match(r.stderr, /cannot read the cluster spec/);
});

test('an unknown command exits 2 with did-you-mean, also with --help after it', async () => {
  const unknown = await runCli('frobnicate', '--help');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  assert.doesNotMatch(unknown.stdout, /Usage: kubewright/);
  const typo = await runCli('rendr', '-f', 'x.yaml');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command 'rendr'[\s\S]*Did you mean render\?/);
  const sub = await runCli('pki', 'isue');
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /unknown command 'isue'[\s\S]*Did you mean issue\?/);
});

test('render gives -o up to output formats: --out names the directory', async () => {
  const r = await runCli('render', '-f', '/nonexistent/cluster.yaml', '-o', 'json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '-o'|required option '--out/);
});
