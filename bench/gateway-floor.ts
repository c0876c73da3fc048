/**
 * The least a Node forwarder can do, as a floor for the gateway's CPU per request: node:http
 * in, answer 200 at once, undici out to every `--forward` URL, requests merged per upstream
 * (Buffer.concat) with one post in flight each. No validation, routing, limits, retries,
 * queue bounds, observation or error handling: not a product, a measuring stick.
 *
 * Run through bench/gateway-profile.ts `--floor` (same load, receivers and readings as the
 * gateway); takes the gateway's flags and prints the same "listening" line.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';

interface Upstream {
  readonly origin: string;
  readonly agent: Agent;
  queue: Buffer[];
  busy: boolean;
}

const argv = process.argv.slice(2);
const upstreams: Upstream[] = [];
for (let i = 0; i < argv.length - 1; i++) {
  if (argv[i] === '--forward')
    upstreams.push({ origin: new URL(argv[i + 1]!).origin, agent: new Agent({ keepAliveTimeout: 60_000 }), queue: [], busy: false });
}

const headers = { 'content-type': 'application/x-protobuf' };

function flush(u: Upstream): void {
  if (u.busy || u.queue.length === 0) return;
  const body = u.queue.length === 1 ? u.queue[0]! : Buffer.concat(u.queue);
  u.queue = [];
  u.busy = true;
  const done = (): void => {
    u.busy = false;
    flush(u);
  };
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart() {},
    onResponseData() {},
    onResponseEnd: done,
    onResponseError: done,
  };
  u.agent.dispatch({ origin: u.origin, path: '/v1/metrics', method: 'POST', headers, body }, handler);
}

let scheduled = false;
function flushAll(): void {
  scheduled = false;
  for (const u of upstreams) flush(u);
}

const answer = { 'content-type': 'application/x-protobuf', 'content-length': '0' };
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    for (const u of upstreams) u.queue.push(body);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushAll);
    }
    res.writeHead(200, answer);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening grpc=off http=127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
// The profiler writes its file on a normal exit only.
process.on('SIGTERM', () => process.exit(0));
