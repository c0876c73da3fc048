/**
 * Every fenced block of README.md and docs/*.md does what the docs say it does. One test per
 * block; a failure names the file, the line and the compiler, runtime or loader error.
 *
 * How each block is checked, by its fence language:
 * - `ts`, `js`: a complete ES module, as a reader would paste it. Imports of `otlp-fanout` and
 *   `otlp-fanout/integration` are rewritten to src/index.ts and src/integration.ts. The block is
 *   type-checked with the TypeScript compiler API under tsconfig.json's options (except
 *   `noUnusedLocals`/`noUnusedParameters`: a snippet may name a value only to show it), then run
 *   with tsx in a child process that must exit 0 within RUN_LIMIT_MS, with no `OTEL_*` variable
 *   set, printing no `OTLP_FANOUT` warning. `127.0.0.1:4317` and `127.0.0.1:4318` in a block are
 *   replaced by the gRPC and HTTP addresses of a real loopback OTLP receiver
 *   (test/support/receiver.ts), and a block that names them must deliver at least one request to it.
 *   A snippet that starts a gateway must shut it down, or it never exits.
 * - `yaml`: a gateway configuration, loaded with `loadGatewayConfig` (the CLI's loader) from a
 *   temporary directory that holds test/fixtures/tls's files under their own names (`server.pem`,
 *   `ca.pem`, ...), with every `${NAME}` it uses set.
 * - `sh`: each command (comments dropped, `&&` and `;` split) must be one the test can check:
 *   `otlp-fanout ...` or `npx otlp-fanout ...`, parsed by the CLI's own parser (src/cli-args.ts),
 *   then its flags validated with `loadGatewayConfig` (no file read, nothing listens); `npm install`,
 *   `npm ci`, or an npm script of package.json (`npm test`, `npm start`, `npm run <name>`). A block
 *   made only of `NAME=value` lines is an environment: `createTelemetry({ env })` must resolve it
 *   with no warning, and declare every backend `OTEL_FANOUT_BACKENDS` names.
 * - `text`: output or a listing, nothing to run. A fence with no language fails: say what it is.
 * - any other language fails unless marked `skip`.
 *
 * Markers: an HTML comment on the line before the fence (invisible on GitHub). Two, kept few on
 * purpose; a marker anywhere else, or an unknown one, fails the test:
 * - `<!-- snippet: skip REASON -->`: not checked; the reason is required and shows in the test name.
 * - `<!-- snippet: declares NAME -->` (ts): the block declares NAME to document the exported type of
 *   that name; it must be mutually assignable with `import type { NAME } from 'otlp-fanout'`. Only
 *   type-checked: a declaration has nothing to run.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { createTelemetry, setDiagnosticSink } from '../../src/index.js';
import { loadGatewayConfig } from '../../src/integration.js';
import { parseCommandLine } from '../../src/cli-args.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const RUN_LIMIT_MS = 30_000;
const ENTRY_POINTS: Readonly<Record<string, string>> = { 'otlp-fanout': 'src/index.js', 'otlp-fanout/integration': 'src/integration.js' };
const GRPC_PORT = '127.0.0.1:4317';
const HTTP_PORT = '127.0.0.1:4318';

interface Block {
  /** `README.md`, `docs/gateway.md`. */
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  readonly marker: { readonly kind: 'skip' | 'declares'; readonly arg: string } | undefined;
}

const MARKER = /^<!--\s*snippet:\s*(\S+)\s*(.*?)\s*-->$/;

/** The fenced blocks of one markdown file; throws on a stray or malformed marker. */
function blocksOf(doc: string): Block[] {
  const lines = readFileSync(path.join(root, doc), 'utf8').split('\n');
  const out: Block[] = [];
  let pending: { kind: 'skip' | 'declares'; arg: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const marker = MARKER.exec(text.trim());
    if (marker !== null) {
      const [, kind, arg] = marker;
      if (kind !== 'skip' && kind !== 'declares') throw new Error(`${doc}:${i + 1}: unknown snippet marker "${kind}" (skip REASON, declares NAME)`);
      if (arg === '') throw new Error(`${doc}:${i + 1}: "snippet: ${kind}" needs ${kind === 'skip' ? 'a reason' : 'a type name'}`);
      pending = { kind, arg: arg!, line: i + 1 };
      continue;
    }
    const open = /^```(\S*)\s*$/.exec(text);
    if (open === null) {
      if (pending !== undefined && text.trim() !== '') throw new Error(`${doc}:${pending.line}: a snippet marker must be on the line before a fence`);
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i === lines.length) throw new Error(`${doc}:${start + 1}: unclosed fence`);
    out.push({ doc, line: start + 1, lang: open[1]!, code: body.join('\n'), marker: pending });
    pending = undefined;
  }
  return out;
}

const docs = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const blocks = docs.flatMap(blocksOf);
const where = (b: Block, offset = 0): string => `${b.doc}:${b.line + 1 + offset}`;

// ---- ts / js: one program for every block, then one child process per block ----

const workDir = path.join(root, 'node_modules', '.cache', `doc-snippets-${process.pid}`);
// Inside the repository so that packages resolve from its node_modules. `.mts`: tsx loads a `.ts` file under
// node_modules as CommonJS, and a snippet may use top-level await.
const fileOf = (b: Block): string => path.join(workDir, `${b.doc.replace(/[/.]/g, '_')}_${b.line}.mts`);

function rewrite(b: Block, receiver: Receiver | undefined): string {
  let code = b.code.replace(/(['"])(otlp-fanout(?:\/integration)?)\1/g, (all, q: string, spec: string) => {
    const target = ENTRY_POINTS[spec];
    return target === undefined ? all : `${q}${path.relative(workDir, path.join(root, target)).split(path.sep).join('/')}${q}`;
  });
  if (receiver !== undefined) {
    code = code.replaceAll(GRPC_PORT, new URL(receiver.grpcUrl).host).replaceAll(HTTP_PORT, new URL(receiver.httpUrl).host);
  }
  if (b.marker?.kind === 'declares') {
    const name = b.marker.arg;
    // Appended after the block, so compiler lines still match the doc's; assigned both ways, so the
    // compiler names the member that differs.
    code += `\nimport type { ${name} as Exported$ } from '${path.relative(workDir, path.join(root, ENTRY_POINTS['otlp-fanout']!))}';
declare const documented$: ${name};
declare const exported$: Exported$;
export const toExported$: Exported$ = documented$;
export const toDocumented$: ${name} = exported$;\n`;
  }
  return code;
}

const tsBlocks = blocks.filter((b) => (b.lang === 'ts' || b.lang === 'js') && b.marker?.kind !== 'skip');
let typeErrors: Map<Block, string[]> | undefined;

/** Type-checks every ts/js block in one program; errors by block, with doc lines. */
function typeCheck(): Map<Block, string[]> {
  if (typeErrors !== undefined) return typeErrors;
  const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false };
  const program = ts.createProgram(tsBlocks.map(fileOf), options);
  typeErrors = new Map();
  for (const b of tsBlocks) {
    const lineCount = b.code.split('\n').length;
    const source = program.getSourceFile(fileOf(b));
    const diagnostics = source === undefined ? [] : [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    typeErrors.set(
      b,
      diagnostics.map((d) => {
        const at = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
        const message = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
        if (at === undefined) return `${where(b, -1)}: ${message}`;
        if (at.line >= lineCount) return `${where(b, -1)}: the documented ${b.marker?.arg} is not the exported one: ${message}`;
        return `${where(b, at.line)}:${at.character + 1}: ${message}`;
      }),
    );
  }
  return typeErrors;
}

interface RunResult {
  readonly code: number | null;
  readonly output: string;
  readonly stderr: string;
}

async function runSnippet(b: Block): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_')) env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx/esm', fileOf(b)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    new Promise<number | null>((resolve) => child.once('exit', resolve)),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), RUN_LIMIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  if (code === 'timeout') {
    child.kill('SIGKILL');
    stderr += `\n(still running after ${RUN_LIMIT_MS} ms: killed; does it shut down what it starts?)`;
  }
  // Stack traces name the temporary file: point them at the doc instead.
  const toDoc = (s: string): string =>
    s.replace(new RegExp(`(?:file://)?${escape(fileOf(b))}:(\\d+)(?::\\d+)?`, 'g'), (_, l: string) => where(b, Number(l) - 1));
  return { code: code === 'timeout' ? null : code, output: toDoc(`${stdout}${stderr}`), stderr: toDoc(stderr) };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- sh ----

/** Splits a command line into words: whitespace, single and double quotes; no expansion. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

function commandsOf(code: string): string[] {
  const joined = code.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '')
    .flatMap((l) => l.split(/\s*(?:&&|;)\s*/))
    .filter((l) => l !== '');
}

/** Problems with one command; empty when it checks out. */
function checkCommand(command: string, scripts: Readonly<Record<string, string>>): string[] {
  let argv = words(command);
  if (argv[0] === 'npx') argv = argv.slice(1);
  const [program, ...args] = argv;
  if (program === 'otlp-fanout') {
    const parsed = parseCommandLine(args);
    if (parsed.kind === 'usage-error') return [`${command}: ${parsed.message}`];
    if (parsed.kind !== 'gateway') return [];
    try {
      // The flags as the CLI would apply them; a `--config` file is the reader's own, not read here.
      loadGatewayConfig({ flags: parsed.flags, env: {} });
      return [];
    } catch (e) {
      return [`${command}: ${e instanceof Error ? e.message : String(e)}`];
    }
  }
  if (program === 'npm') {
    const [sub, name] = args;
    if (sub === 'install' || sub === 'ci') return [];
    if (sub === 'test' || sub === 'start') return scripts[sub] === undefined ? [`${command}: package.json has no "${sub}" script`] : [];
    if (sub === 'run') return name !== undefined && scripts[name] !== undefined ? [] : [`${command}: package.json has no "${name}" script`];
  }
  return [`${command}: not a command this test can check (mark the block "snippet: skip REASON")`];
}

/** Problems with an environment block: warnings, or backends it declares that do not resolve. */
async function checkEnvironment(commands: readonly string[]): Promise<string[]> {
  const env: Record<string, string> = {};
  for (const c of commands) {
    const eq = c.indexOf('=');
    env[c.slice(0, eq)] = words(c.slice(eq + 1)).join(' ');
  }
  const warnings: string[] = [];
  setDiagnosticSink((m) => warnings.push(m));
  try {
    const telemetry = createTelemetry({ env, selfMetrics: false });
    try {
      const names = new Set(telemetry.config.backends.map((b) => b.name));
      const declared = (env['OTEL_FANOUT_BACKENDS'] ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '');
      return [...warnings, ...declared.filter((n) => !names.has(n)).map((n) => `backend ${n} was not resolved`)];
    } finally {
      await telemetry.shutdown();
    }
  } finally {
    // The default sink again (warn.ts has no getter to save it with).
    setDiagnosticSink((m) => process.emitWarning(m, { code: 'OTLP_FANOUT' }));
  }
}

// ---- yaml ----

function checkGatewayYaml(code: string): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'doc-yaml-'));
  try {
    const tls = path.join(root, 'test', 'fixtures', 'tls');
    for (const f of readdirSync(tls)) if (f.endsWith('.pem')) copyFileSync(path.join(tls, f), path.join(dir, f));
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, code);
    const env: Record<string, string> = {};
    for (const m of code.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) env[m[1]!] = `snippet-${m[1]!.toLowerCase()}`;
    loadGatewayConfig({ file, env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the suite ----

/** Fails with `message` alone (uvu's `ok` would print it twice). */
function check(condition: boolean, message: string): void {
  if (!condition) assert.unreachable(message);
}

const test = suite('docs: every fenced block of README.md and docs/*.md');
let receiver: Receiver | undefined;

test.before(async () => {
  receiver = await startReceiver();
  mkdirSync(workDir, { recursive: true });
  for (const b of tsBlocks) {
    const mentions = b.code.includes(GRPC_PORT) || b.code.includes(HTTP_PORT);
    writeFileSync(fileOf(b), rewrite(b, mentions ? receiver : undefined));
  }
});

test.after(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await receiver?.close();
});

test('the docs have blocks of every checked kind (the fence parser works)', () => {
  const langs = new Set(blocks.map((b) => b.lang));
  for (const l of ['ts', 'sh', 'yaml']) assert.ok(langs.has(l), `no ${l} block found in ${docs.join(', ')}`);
});

const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

for (const b of blocks) {
  const name = `${b.doc}:${b.line} ${b.lang === '' ? '(no language)' : b.lang}`;
  if (b.marker?.kind === 'skip') {
    test(`${name}: skipped, ${b.marker.arg}`, () => undefined);
    continue;
  }
  if (b.marker?.kind === 'declares' && b.lang !== 'ts') {
    test(name, () => assert.unreachable(`${b.doc}:${b.line}: "snippet: declares" applies to ts blocks only`));
    continue;
  }
  switch (b.lang) {
    case 'ts':
    case 'js':
      test(`${name}: type-checks${b.marker?.kind === 'declares' ? ` as the exported ${b.marker.arg}` : ' and runs'}`, async () => {
        const errors = typeCheck().get(b) ?? [];
        check(errors.length === 0, `\n${errors.join('\n')}`);
        if (b.marker?.kind === 'declares') return;
        receiver!.clear();
        const r = await runSnippet(b);
        check(r.code === 0, `${where(b, -1)}: the snippet exited with ${r.code}:\n${r.output}`);
        check(!r.stderr.includes('OTLP_FANOUT'), `${where(b, -1)}: the snippet printed a warning:\n${r.stderr}`);
        if (b.code.includes(GRPC_PORT) || b.code.includes(HTTP_PORT)) {
          check(
            receiver!.requests.length > 0,
            `${where(b, -1)}: nothing reached the receiver standing in for ${GRPC_PORT} / ${HTTP_PORT}:\n${r.output}`,
          );
        }
      });
      break;
    case 'yaml':
      test(`${name}: loads as a gateway configuration`, () => {
        try {
          checkGatewayYaml(b.code);
        } catch (e) {
          assert.unreachable(`${where(b, -1)}: ${e instanceof Error ? e.message : String(e)}`);
        }
      });
      break;
    case 'sh':
      test(`${name}: every command checks out`, async () => {
        const commands = commandsOf(b.code);
        check(commands.length > 0, `${where(b, -1)}: no command`);
        const problems = commands.every((c) => ASSIGNMENT.test(c))
          ? await checkEnvironment(commands)
          : commands.flatMap((c) => checkCommand(c, scripts));
        check(problems.length === 0, `${where(b, -1)}:\n${problems.join('\n')}`);
      });
      break;
    case 'text':
      test(`${name}: output or a listing, nothing to run`, () => undefined);
      break;
    default:
      test(name, () =>
        assert.unreachable(
          `${where(b, -1)}: a \`${b.lang}\` block cannot be checked: give it a language (ts, yaml, sh, text) or mark it "snippet: skip REASON"`,
        ),
      );
  }
}

test.run();
