/**
 * The web inspector in a real browser: Debian's chromium (`/usr/bin/chromium`; `.ci/run` installs
 * it), driven by playwright-core (no browser download). An in-process gateway with two tenants,
 * two upstreams (one is taken down mid-test) and secrets in every place a config can hold one;
 * data sent by our library (tenant acme, service checkout) and by the official OpenTelemetry
 * exporters and SDKs (tenant beta, service payments: metrics, logs and spans).
 *
 * Asserted in the page: the services and tenants; the metric explorer charts a counter and splits
 * it by an attribute; the downed upstream turns unhealthy and shows its error; the tail's filters
 * narrow it; the config page never shows a secret; and the token login. Screenshots of each page go
 * to test-artifacts/inspector/ (gitignored), for a human to look at after a failure.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createTelemetry } from '../../../src/index.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { startGateway, type Gateway } from '../../../src/gateway/gateway.js';
import { createObserver } from '../../../src/gateway/observe/observer.js';
import { startInspection, type Inspection } from '../../../src/gateway/inspect/inspection.js';
import { startReceiver, type Receiver } from '../../support/receiver.js';
import { api, logsProto, metricsJson, resources, sdkLogs, sdkMetrics, sdkTrace, traceProto } from '../../interop/official.js';

const test = suite('gateway/inspect: the inspector in chromium');
const root = fileURLToPath(new URL('../../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const artifacts = path.join(root, 'test-artifacts', 'inspector');

const SECRETS = {
  ACME_TOKEN: 'acme-token-secret-1',
  BETA_KEY: 'beta-apikey-secret-2',
  MAIN_AUTH: 'Bearer main-upstream-secret-3',
  FLAKY_KEY: 'flaky-header-secret-4',
  UI_TOKEN: 'ui-token-secret-5',
};

let assets = '';
let good: Receiver;
let flaky: Receiver;
let gateway: Gateway;
let inspection: Inspection;
let browser: Browser;
let page: Page;
let base = '';

test.before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (.ci/run does)`);
  assets = mkdtempSync(path.join(tmpdir(), 'otlp-fanout-ui-'));
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--ui-only', '--outdir', assets], { cwd: root });
  mkdirSync(artifacts, { recursive: true });
  [good, flaky] = await Promise.all([startReceiver({ grpc: false }), startReceiver({ grpc: false })]);
  const text = `
receivers: { grpc: false, http: { address: 127.0.0.1:0 } }
tenants:
  acme: { tokens: ["\${ACME_TOKEN}"] }
  beta: { apiKeys: ["\${BETA_KEY}"] }
upstreams:
  main: { endpoint: "${good.httpUrl}", headers: { authorization: "\${MAIN_AUTH}" } }
  flaky:
    endpoint: "${flaky.httpUrl}"
    headers: { x-api-key: "\${FLAKY_KEY}" }
    timeout: 1s
    retry: { initialBackoff: 100ms, maxBackoff: 200ms, maxElapsed: 1s }
observe:
  ui: { address: 127.0.0.1:0, auth: { token: "\${UI_TOKEN}" } }
`;
  const config = loadGatewayConfig({ text, label: 'browser test', env: SECRETS });
  const observer = createObserver({ out: { write: () => true }, intervalMillis: 0 });
  inspection = await startInspection({ config, observer, assetsDir: path.join(assets, 'ui') });
  gateway = await startGateway(config, { observer: inspection.observer });
  base = `http://${inspection.endpoints.ui}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

test.after(async () => {
  await browser?.close();
  await gateway?.shutdown(1000);
  await Promise.all([good?.close(), flaky?.close()]);
  rmSync(assets, { recursive: true, force: true });
});

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

/**
 * Polls `check` (reading the page through locators) until it holds; fails with `what` and a
 * screenshot. Not page.waitForFunction: the page's Content-Security-Policy forbids eval, as it should.
 */
async function until(what: string, check: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) {
      await shot(`failed-${what.replace(/\W+/g, '-')}`);
      throw new Error(`${what}: not within ${timeout} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const count = (selector: string): Promise<number> => page.locator(selector).count();
const textOf = async (selector: string): Promise<string> =>
  (await page.locator(selector).count()) === 0 ? '' : ((await page.locator(selector).first().textContent()) ?? '');
const attrOf = async (selector: string, name: string): Promise<string | null> =>
  (await page.locator(selector).count()) === 0 ? null : page.locator(selector).first().getAttribute(name);

async function go(route: string): Promise<void> {
  await page.click(`[data-testid=nav-${route}]`);
  await page.waitForSelector(`[data-testid=page-${route}]`);
}

/** Our library, as tenant acme: a counter by country, and logs of two severities. */
async function sendFromOurLibrary(): Promise<void> {
  const telemetry = createTelemetry({
    env: {},
    serviceName: 'checkout',
    backends: [
      {
        name: 'gw',
        endpoint: `http://${gateway.addresses.http}`,
        protocol: 'http/protobuf',
        headers: { authorization: `Bearer ${SECRETS.ACME_TOKEN}` },
      },
    ],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  const orders = telemetry.meterProvider.getMeter('checkout').createCounter('orders');
  orders.add(3, { country: 'DE' });
  orders.add(5, { country: 'FR' });
  const logger = telemetry.loggerProvider.getLogger('checkout');
  logger.emit({ severityNumber: 9, severityText: 'INFO', body: 'order placed', attributes: { 'order.id': 'o-1' } });
  logger.emit({ severityNumber: 17, severityText: 'ERROR', body: 'payment declined for order o-2' });
  await telemetry.forceFlush();
  await telemetry.shutdown();
}

/** The official exporters and SDKs, as tenant beta (API key): metrics over HTTP/JSON, logs and spans over HTTP/protobuf. */
async function sendFromOfficialSdks(): Promise<void> {
  const url = (signal: string): string => `http://${gateway.addresses.http}/v1/${signal}`;
  const headers = { 'x-api-key': SECRETS.BETA_KEY };
  const resource = resources.resourceFromAttributes({ 'service.name': 'payments' });
  const meters = new sdkMetrics.MeterProvider({
    resource,
    readers: [
      new sdkMetrics.PeriodicExportingMetricReader({
        exporter: new metricsJson.OTLPMetricExporter({ url: url('metrics'), headers }),
        exportIntervalMillis: 3_600_000,
      }),
    ],
  });
  meters.getMeter('payments').createCounter('payments.charged').add(7, { method: 'card' });
  await meters.forceFlush();
  await meters.shutdown();
  const logs = new sdkLogs.LoggerProvider({
    resource,
    processors: [new sdkLogs.SimpleLogRecordProcessor({ exporter: new logsProto.OTLPLogExporter({ url: url('logs'), headers }) })],
  });
  logs.getLogger('payments').emit({ severityNumber: 13, severityText: 'WARN', body: 'card issuer slow' });
  await logs.forceFlush();
  await logs.shutdown();
  const tracer = new sdkTrace.BasicTracerProvider({
    resource,
    spanProcessors: [new sdkTrace.SimpleSpanProcessor(new traceProto.OTLPTraceExporter({ url: url('traces'), headers }))],
  });
  const t = tracer.getTracer('payments');
  // No context manager is registered: the parent is passed explicitly.
  const root = t.startSpan('charge');
  t.startSpan('authorize', {}, api.trace.setSpan(api.ROOT_CONTEXT, root)).end();
  root.end();
  await tracer.forceFlush();
  await tracer.shutdown();
}

test('the token login: the page asks for the token, refuses a wrong one, and signs in with the right one', async () => {
  const res = await fetch(`${base}/api/events`);
  assert.is(res.status, 401, 'the event stream needs the credentials');
  await page.goto(`${base}/`);
  await page.fill('input[name=token]', 'wrong-token-000');
  await page.click('button');
  await page.waitForSelector('text=That token is not the configured one');
  await page.fill('input[name=token]', SECRETS.UI_TOKEN);
  await page.click('button');
  await until('the stream is live', async () => (await textOf('[data-testid=connection]')) === 'live');
});

test('the overview shows the services and the tenants of what our library and the official SDKs sent', async () => {
  await Promise.all([sendFromOurLibrary(), sendFromOfficialSdks()]);
  await go('overview');
  for (const [table, name] of [
    ['services', 'checkout'],
    ['services', 'payments'],
    ['tenants', 'acme'],
    ['tenants', 'beta'],
  ] as const) {
    await until(`${name} in ${table}`, async () => (await count(`[data-testid=${table}] tr[data-name="${name}"]`)) > 0, 15_000);
  }
  await shot('overview');
});

test('the metric explorer charts a counter, split by an attribute', async () => {
  await go('metrics');
  await until('orders listed', async () => (await count('[data-metric=orders]')) > 0);
  await page.click('[data-metric=orders] button');
  await until('the chart has series', async () => ((await attrOf('[data-testid=metric-chart]', 'data-series')) ?? '') !== '');
  assert.ok((await page.locator('[data-testid=metric-chart] canvas').count()) > 0, 'uPlot drew a canvas');
  await page.selectOption('[data-testid=split-by]', 'country');
  await until('split by country', async () => (await attrOf('[data-testid=metric-chart]', 'data-series')) === 'DE,FR');
  const rows = await page.locator('[data-testid=series] tbody tr').allTextContents();
  assert.equal(rows.length, 2);
  assert.ok(rows.some((r) => r.includes('country=DE') && r.includes('3')));
  assert.ok(rows.some((r) => r.includes('country=FR') && r.includes('5')));
  await shot('metrics');
});

test('the live tail narrows by signal, service, tenant, metric name, severity and text', async () => {
  await go('tail');
  const entries = (): Promise<number> => count('[data-testid=tail] tr.entry');
  await until('requests in the tail', async () => (await entries()) >= 6);
  const all = await entries();
  await page.selectOption('[data-testid=filter-signal]', 'logs');
  const logs = await entries();
  assert.ok(logs > 0 && logs < all, `logs only: ${logs} of ${all}`);
  const signals = new Set<string | null>();
  for (const row of await page.locator('[data-testid=tail] tr.entry').all()) signals.add(await row.getAttribute('data-signal'));
  assert.equal([...signals], ['logs']);
  await page.selectOption('[data-testid=filter-severity]', 'ERROR');
  assert.is(await entries(), 1, 'only the request with an ERROR record');
  await page.selectOption('[data-testid=filter-severity]', '');
  await page.selectOption('[data-testid=filter-tenant]', 'beta');
  assert.is(await entries(), 1, "beta's one logs request");
  await page.selectOption('[data-testid=filter-tenant]', '');
  await page.fill('[data-testid=filter-text]', 'declined');
  assert.is(await entries(), 1, 'the text of a log body');
  await page.fill('[data-testid=filter-text]', '');
  await page.selectOption('[data-testid=filter-signal]', '');
  await page.selectOption('[data-testid=filter-service]', 'payments');
  const payments = await entries();
  assert.ok(payments >= 3 && payments < all, `payments: ${payments}`);
  await page.fill('[data-testid=filter-metric]', 'payments.charged');
  const charged = await page.locator('[data-testid=tail] tr.entry').allTextContents();
  assert.ok(charged.length >= 1 && charged.length < payments, `the requests holding the metric: ${charged.length}`);
  for (const row of charged) assert.match(row, 'payments.charged');
  await shot('tail');
  await page.fill('[data-testid=filter-metric]', '');
  await page.selectOption('[data-testid=filter-service]', '');
});

test('logs and traces: the table shows the records, the waterfall the spans of a trace', async () => {
  await go('logs');
  await until('three log records', async () => (await count('[data-testid=logs] tbody tr')) >= 3);
  assert.match((await page.locator('[data-testid=logs]').textContent()) ?? '', 'payment declined for order o-2');
  await shot('logs');
  await go('traces');
  await until('a trace with two spans', async () => (await count('[data-testid=waterfall] .row')) === 2);
  const labels = await page.locator('[data-testid=waterfall] .label').allTextContents();
  assert.ok(labels[0]!.startsWith('charge') && labels[1]!.startsWith('authorize'), labels.join(' | '));
  await shot('traces');
});

test('an upstream taken down turns unhealthy and shows its error', async () => {
  await go('upstreams');
  await until('both upstreams healthy', async () => (await count('[data-testid=upstreams] tr[data-health=ok]')) === 2);
  await flaky.close();
  await sendFromOurLibrary();
  await until('flaky is unhealthy', async () => (await attrOf('tr[data-upstream=flaky]', 'data-health')) === 'failing', 15_000);
  const error = (await page.locator('tr[data-upstream=flaky] [data-testid=last-error]').textContent()) ?? '';
  assert.match(error, /ECONNREFUSED|connect|refused|fetch failed/i);
  assert.is(await page.locator('tr[data-upstream=main]').getAttribute('data-health'), 'ok', 'the other one stays healthy');
  await shot('upstreams');
});

test('the config page shows the configuration and never a secret', async () => {
  await go('config');
  await until('the config loaded', async () => (await textOf('[data-testid=config]')).includes('upstreams'));
  const shown = (await page.locator('[data-testid=config]').textContent()) ?? '';
  for (const s of Object.values(SECRETS)) {
    assert.not.ok(shown.includes(s), `the config page shows ${s}`);
    assert.not.ok(shown.includes(s.replace(/^Bearer /, '')), `the config page shows ${s}`);
  }
  for (const s of ['acme', 'beta', 'authorization', 'x-api-key', '(redacted)']) assert.ok(shown.includes(s), `shows ${s}`);
  const html = await page.content();
  for (const s of Object.values(SECRETS)) assert.not.ok(html.includes(s.replace(/^Bearer /, '')), `the page holds ${s}`);
  await shot('config');
});

test.run();
