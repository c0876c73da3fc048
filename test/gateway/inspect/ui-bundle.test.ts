/**
 * The inspector's page as `npm run build` ships it (dist/ui): within its size budget (README,
 * "Web inspector": at most 200 KB gzip-compressed, all files together), self-contained (nothing
 * loaded from another origin: it works offline and behind the page's Content-Security-Policy),
 * and listed in package.json's `files`.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const test = suite('gateway/inspect: the page bundle');
const root = fileURLToPath(new URL('../../../', import.meta.url));
/** README, "Web inspector". */
const BUDGET_BYTES = 200 * 1000;

let dir = '';
test.before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'otlp-fanout-ui-bundle-'));
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--ui-only', '--outdir', dir], { cwd: root });
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function files(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? files(path.join(d, n)) : [path.join(d, n)]));
}

test('three files, within the budget compressed', () => {
  const ui = path.join(dir, 'ui');
  const all = files(ui)
    .map((f) => path.relative(ui, f))
    .sort();
  assert.equal(all, ['assets/app.css', 'assets/app.js', 'index.html']);
  const gz = all.reduce((n, f) => n + gzipSync(readFileSync(path.join(ui, f)), { level: 9 }).length, 0);
  assert.ok(gz <= BUDGET_BYTES, `${gz} bytes gzip-compressed, over the ${BUDGET_BYTES} budget`);
  // A floor too: a bundle this small has lost its libraries.
  assert.ok(gz > 20_000, `${gz} bytes: Preact and uPlot are bundled`);
});

test('self-contained: the page names nothing on another origin', () => {
  const ui = path.join(dir, 'ui');
  const html = readFileSync(path.join(ui, 'index.html'), 'utf8');
  for (const m of html.matchAll(/\b(?:src|href)="([^"]*)"/g)) assert.ok(/^(\/assets\/|data:)/.test(m[1]!), `index.html loads ${m[1]}`);
  const js = readFileSync(path.join(ui, 'assets/app.js'), 'utf8');
  assert.not.match(js, /(?:import\(|fetch\(|EventSource\()\s*["'`]https?:/, 'no request to another origin');
  assert.not.match(readFileSync(path.join(ui, 'assets/app.css'), 'utf8'), /@import|url\(\s*["']?https?:/);
});

test("package.json ships dist/ui; the built page's libraries are devDependencies, not runtime dependencies", () => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    files: string[];
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  assert.ok(pkg.files.includes('dist/ui'));
  for (const lib of ['preact', 'uplot', 'playwright-core']) {
    assert.ok(lib in pkg.devDependencies, `${lib} is a devDependency`);
    assert.not.ok(lib in pkg.dependencies, `${lib} is not a runtime dependency`);
  }
});

test.run();
