/**
 * The gateway's lifecycle with real processes on loopback: SIGHUP reloads the configuration file
 * (an invalid one changes nothing; an upstream removed with data still counts for the exit code);
 * SIGTERM after a clean drain exits 0; `npm start` hands SIGTERM to the gateway, sent to
 * npm alone (a container's PID 1) or to the whole process group (systemd, Ctrl-C), and leaves no
 * node process behind; a second SIGTERM during a drain stuck on an upstream that never answers
 * says what it abandons and exits 3. The deadline case (exit 3) is in cli.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { alive, cli, LISTENING, root, watch } from '../support/child-run.js';
import type { Run } from '../support/child-run.js';
import { ofSignal, startReceiver } from '../support/receiver.js';
import { bin, metricsRequest, post, PROTOBUF } from './harness.js';

const test = suite('gateway/lifecycle');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Newest modification time of the .ts files under `dir`. */
function newest(dir: string): number {
  return readdirSync(dir).reduce((m, n) => {
    const p = path.join(dir, n);
    const s = statSync(p);
    return Math.max(m, s.isDirectory() ? newest(p) : n.endsWith('.ts') ? s.mtimeMs : 0);
  }, 0);
}

/**
 * `npm start` runs dist/ (built by `npm install`/`npm ci` through `prepare`). Rebuilt here only when
 * it is missing or older than src/ or gen/, as after editing without building.
 */
function ensureBuilt(): void {
  const cli = path.join(root, 'dist/src/cli.js');
  let built = 0;
  try {
    built = statSync(cli).mtimeMs;
  } catch {
    // Not built: built stays 0.
  }
  if (built >= Math.max(newest(path.join(root, 'src')), newest(path.join(root, 'gen')))) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  assert.is(r.status, 0, `npm run build: ${r.stdout}${r.stderr}`);
}

/** The parent pid of a process, from /proc. */
function parentOf(pid: number): number {
  // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Waits (bounded) until no process has this pid. */
async function gone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await sleep(20);
  }
  return true;
}

/** `npm start -- ARGS` in its own process group (detached), as a supervisor runs it. */
function npmStart(args: readonly string[]): Run {
  return watch(
    spawn('npm', ['start', '--', ...args], {
      cwd: root,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
}

test('SIGHUP reloads the file with the same flags: an edit is applied, an invalid one rejected naming the key; exit codes unchanged', async () => {
  const [one, two] = await Promise.all([startReceiver({ grpc: false }), startReceiver({ grpc: false })]);
  const stuck = await startReceiver({ grpc: false, respond: () => ({ kind: 'stall' }) });
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-life-'));
  const file = path.join(dir, 'gateway.yaml');
  const env = { ONE: one.httpUrl, TWO: two.httpUrl, STUCK: stuck.httpUrl };
  writeFileSync(file, 'upstreams:\n  one: { endpoint: "${ONE}" }\n');
  const run = cli(['gateway', '--grpc', 'off', '--http', '127.0.0.1:0', '--config', file, '--verbosity', 'basic'], env);
  const send = async (http: string, service: string): Promise<number> =>
    (await post(`http://${http}/v1/metrics`, bin.metrics(metricsRequest([service], 2)), PROTOBUF)).status;
  try {
    const [, , http] = await run.line(LISTENING);
    writeFileSync(file, 'upstreams:\n  one: { endpoint: "${ONE}" }\n  two: { endpoint: "${TWO}" }\n');
    run.child.kill('SIGHUP');
    await run.line(/reload \(SIGHUP, \S+gateway\.yaml\) applied in \d+ ms: upstreams \+two\n/, 5000);
    assert.is(await send(http!, 'after-hup'), 200);
    await two.waitFor(ofSignal('metrics'), 3000);
    await one.waitFor((r) => Buffer.from(r.bytes).includes('after-hup'), 3000);

    writeFileSync(file, 'upstreams:\n  one: { endpoint: "${ONE}" }\n  two: { endpoint: "${TWO}", timeout: soon }\n');
    run.child.kill('SIGHUP');
    await run.line(/reload \(SIGHUP, \S+\) rejected, the running configuration is kept: invalid gateway config at upstreams\.two\.timeout: /, 5000);
    assert.is(await send(http!, 'after-bad-hup'), 200);
    await two.waitFor((r) => Buffer.from(r.bytes).includes('after-bad-hup'), 3000);

    // An upstream a reload removes while it still holds acknowledged data counts at the stop: exit 3.
    writeFileSync(file, 'drainTimeout: 60s\nupstreams:\n  one: { endpoint: "${ONE}" }\n  stuck: { endpoint: "${STUCK}", maxConcurrency: 1 }\n');
    run.child.kill('SIGHUP');
    await run.line(/upstreams \+stuck -two/, 5000);
    assert.is(await send(http!, 'to-stuck'), 200);
    await stuck.waitFor(ofSignal('metrics'), 3000);
    writeFileSync(file, 'drainTimeout: 2s\nupstreams:\n  one: { endpoint: "${ONE}" }\n');
    run.child.kill('SIGHUP');
    await run.line(/upstreams -stuck; changed drainTimeout/, 5000);
    run.child.kill('SIGTERM');
    assert.is(await run.exit(), 3);
    // Still draining when SIGTERM came: the stop's report has it (the reload's own report is not printed).
    assert.match(run.stdout(), 'upstream stuck: 1 requests, 2 items undelivered');
    assert.match(run.stdout(), 'exit 3: acknowledged data was lost');
    assert.not.match(run.stdout(), 'upstream stuck (removed by a reload)');
    assert.is(run.child.signalCode, null);
  } finally {
    run.child.kill('SIGKILL');
    await Promise.all([one.close(), two.close(), stuck.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const target of ['npm', 'group'] as const) {
  const to = target === 'npm' ? 'npm alone (a container whose PID 1 is npm)' : 'the process group (systemd, Ctrl-C)';
  test(`npm start: SIGTERM sent to ${to} reaches the gateway, which drains, reports, exits 0 and leaves no process behind`, async () => {
    ensureBuilt();
    const upstream = await startReceiver({ grpc: false });
    // --ui again: a free port instead of npm start's 127.0.0.1:4319, which another gateway on the machine may hold.
    const run = npmStart(['--grpc', 'off', '--http', '127.0.0.1:0', '--ui', '127.0.0.1:0', '--forward', upstream.httpUrl, '--verbosity', 'basic']);
    const npm = run.child.pid!;
    let gateway: number | undefined;
    try {
      const [, , http, pid] = await run.line(LISTENING);
      gateway = Number(pid);
      // npm's script execs node: the gateway is npm's own child, with no shell in between to swallow the signal.
      assert.is(parentOf(gateway), npm);
      const res = await post(`http://${http}/v1/metrics`, bin.metrics(metricsRequest(['npm'], 2)), PROTOBUF);
      assert.is(res.status, 200);
      await upstream.waitFor(ofSignal('metrics'), 3000);
      process.kill(target === 'npm' ? npm : -npm, 'SIGTERM');
      assert.is(await run.exit(), 0, run.stderr());
      assert.match(run.stdout(), 'SIGTERM, draining');
      assert.match(run.stdout(), /stopped after \d+ ms: everything queued was delivered/);
      // The group's SIGTERM and npm's forwarded copy are one stop, never a second one that abandons.
      assert.not.match(run.stdout(), 'stopping without waiting');
      assert.ok(await gone(gateway), `gateway pid ${gateway} still exists after npm exited`);
    } finally {
      if (gateway !== undefined && alive(gateway)) process.kill(gateway, 'SIGKILL');
      run.child.kill('SIGKILL');
      await upstream.close();
    }
  });
}

test("docs/gateway.md's container CMD runs npm start's command line, without npm and the shell", () => {
  const start = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const [exec, ...command] = start.split(' ');
  assert.is(exec, 'exec', 'the start script execs node, so npm signals the gateway itself');
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(root, 'docs/gateway.md'), 'utf8'));
  assert.ok(cmd !== null, 'a CMD line in docs/gateway.md');
  assert.equal((JSON.parse(cmd[1]!) as string[]).slice(0, command.length), command);
});

test('a second SIGTERM during a drain stuck on an upstream that never answers: says what it abandons, exits 3', async () => {
  const upstream = await startReceiver({ grpc: false, respond: () => ({ kind: 'stall' }) });
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-life-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, `drainTimeout: 60s\nupstreams:\n  stuck:\n    endpoint: \${UPSTREAM}\n    maxConcurrency: 1\n`);
  const run = cli(['gateway', '--grpc', 'off', '--http', '127.0.0.1:0', '--config', file], { UPSTREAM: upstream.httpUrl });
  try {
    const [, , http] = await run.line(LISTENING);
    for (let i = 0; i < 3; i++) {
      const res = await post(`http://${http}/v1/metrics`, bin.metrics(metricsRequest(['s'], 2)), PROTOBUF);
      assert.is(res.status, 200);
    }
    await upstream.waitFor(ofSignal('metrics'), 3000);
    run.child.kill('SIGTERM');
    await run.line(/draining for up to 60000 ms/, 5000);
    // Past the window in which a repeat is taken as the same signal delivered twice.
    await sleep(700);
    const second = Date.now();
    run.child.kill('SIGTERM');
    assert.is(await run.exit(10_000), 3);
    assert.ok(Date.now() - second < 5000, 'exits without waiting for the 60 s drain');
    assert.match(run.stdout(), 'second SIGTERM, stopping without waiting for the drain');
    assert.match(run.stdout(), 'the drain was cut short; abandoned:');
    assert.match(run.stdout(), 'upstream stuck: 3 requests, 6 items abandoned');
    assert.match(run.stdout(), 'exit 3: acknowledged data was lost');
  } finally {
    run.child.kill('SIGKILL');
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with --storage, a second SIGTERM abandons nothing: what is undelivered stays on disk (exit 0) and the next start delivers it', async () => {
  let stall = true;
  const upstream = await startReceiver({ grpc: false, respond: () => (stall ? { kind: 'stall' } : { kind: 'ok' }) });
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-life-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, `drainTimeout: 60s\nupstreams:\n  stuck:\n    endpoint: \${UPSTREAM}\n    maxConcurrency: 1\n`);
  const args = ['gateway', '--grpc', 'off', '--http', '127.0.0.1:0', '--config', file, '--storage', path.join(dir, 'queue')];
  const run = cli(args, { UPSTREAM: upstream.httpUrl });
  let again: Run | undefined;
  try {
    const [, , http] = await run.line(LISTENING);
    for (let i = 0; i < 3; i++) {
      const res = await post(`http://${http}/v1/metrics`, bin.metrics(metricsRequest([`s${i}`], 2)), PROTOBUF);
      assert.is(res.status, 200);
    }
    await upstream.waitFor(ofSignal('metrics'), 3000);
    run.child.kill('SIGTERM');
    await run.line(/draining for up to 60000 ms/, 5000);
    await sleep(700);
    run.child.kill('SIGTERM');
    assert.is(await run.exit(10_000), 0, 'nothing acknowledged was lost');
    assert.match(run.stdout(), 'nothing lost; what is not delivered yet is kept on disk for the next start');
    assert.match(run.stdout(), 'upstream stuck: 3 records');
    assert.not.match(run.stdout(), 'abandoned');

    stall = false;
    upstream.clear();
    again = cli(args, { UPSTREAM: upstream.httpUrl });
    await again.line(LISTENING);
    // Printed after the listening line, possibly in a later chunk of its output: waited for, not read at once.
    await again.line(/3 records to deliver from before/, 10_000);
    const deadline = Date.now() + 10_000;
    const services = (): string[] =>
      upstream.requests.flatMap((r) =>
        (r.message as { resourceMetrics: { resource?: { attributes: { value?: { value: { value: unknown } } }[] } }[] }).resourceMetrics.map((m) =>
          String(m.resource?.attributes[0]?.value?.value.value),
        ),
      );
    while (new Set(services()).size < 3 && Date.now() < deadline) await sleep(20);
    assert.equal([...new Set(services())].sort(), ['s0', 's1', 's2']);
    again.child.kill('SIGTERM');
    assert.is(await again.exit(10_000), 0);
  } finally {
    run.child.kill('SIGKILL');
    again?.child.kill('SIGKILL');
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
