/**
 * `otlp-fanout --version` as a real child process: `-v`, `--version` and `gateway --version` print
 * `otlp-fanout <version of package.json>` and exit 0, without loading a single gateway module (a
 * resolve hook in the child records every module it loads).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const test = suite('cli --version');
const root = fileURLToPath(new URL('../', import.meta.url));
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

// Registered after tsx's hooks, so it runs first and sees every module the CLI resolves, in the
// loader thread (which inherits the environment, hence the log file named there).
const HOOK = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LOADED_LOG, r.url + '\\n');
  return r;
}`;
const REGISTER = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));`;

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** URLs of the modules the child loaded. */
  readonly loaded: readonly string[];
}

async function run(args: readonly string[]): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-version-'));
  const log = path.join(dir, 'loaded.txt');
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx/esm', '--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, 'src/cli.ts', ...args],
      { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1', LOADED_LOG: log }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      new Promise<number | null>((resolve) => child.once('exit', resolve)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`otlp-fanout ${args.join(' ')} did not exit within 30 s; stdout:\n${stdout}\nstderr:\n${stderr}`));
        }, 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
    let loaded: string[] = [];
    try {
      loaded = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
    } catch {
      // Nothing recorded: the assertion on `loaded` below says so.
    }
    return { code, stdout, stderr, loaded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const args of [['--version'], ['-v'], ['gateway', '--version'], ['gateway', '-v'], ['gateway', '--grpc', 'off', '--version']]) {
  test(`otlp-fanout ${args.join(' ')}: prints the package version, exits 0, loads no gateway module`, async () => {
    const r = await run(args);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, `otlp-fanout ${version}\n`);
    assert.is(r.stderr, '');
    const ours = r.loaded.filter((u) => u.startsWith('file:') && u.includes('/src/'));
    assert.ok(
      ours.some((u) => u.endsWith('/src/cli.ts')),
      `the hook recorded the CLI itself: ${r.loaded.join(', ')}`,
    );
    assert.equal(
      ours.filter((u) => u.includes('/src/gateway/')),
      [],
    );
  });
}

test.run();
