/**
 * OpAMP's plain HTTP transport (spec, Plain HTTP Transport): every AgentToServer is a POST of
 * `application/x-protobuf`, answered by a ServerToAgent in the response body. Keep-alive
 * connections through one undici Agent. Loaded by client.ts only for an `http(s)://` endpoint.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { Agent, request } from 'undici';
import { ServerToAgentSchema } from '../../gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../gen/opamp/v1/opamp_pb.js';
import { gunzipBounded, gzipBody } from '../transport/compression.js';
import { nodeTlsOptions, USER_AGENT } from '../transport/options.js';
import { parseRetryAfter } from '../transport/retryable.js';
import { errorText } from './errors.js';
import type { ResolvedOpampClientOptions } from './options.js';
import type { OpampSendResult, OpampTransport, OpampTransportFactory } from './transport.js';

// Below this gzip's 18 bytes of framing outweigh what it saves: a heartbeat is ~30 bytes.
const GZIP_MIN_BYTES = 1024;

/** The HTTP transport. */
export const createHttpTransport: OpampTransportFactory = (options: ResolvedOpampClientOptions): OpampTransport => {
  const agent = new Agent({ connect: nodeTlsOptions(options.tls) });
  const base: Record<string, string> = {
    'user-agent': USER_AGENT,
    ...options.headers,
    'content-type': 'application/x-protobuf',
    'accept-encoding': 'gzip',
  };

  async function send(message: Uint8Array, instanceUid: string, signal: AbortSignal): Promise<OpampSendResult> {
    const gzip = options.compression === 'gzip' && message.length >= GZIP_MIN_BYTES;
    const headers = { ...base, 'opamp-instance-uid': instanceUid, ...(gzip ? { 'content-encoding': 'gzip' } : {}) };
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMillis)]);
    try {
      const body = gzip ? await gzipBody(message) : message;
      // request() streams the response; OpAMP sends one request per poll, so its cost (which the OTLP
      // transport avoids with its own handler) does not matter here.
      const res = await request(options.url, { method: 'POST', headers, body, dispatcher: agent, signal: deadline });
      const raw = await readBounded(res.body, options.maxMessageBytes);
      const status = res.statusCode;
      if (status === 429 || status === 503) {
        const retryAfterMs = parseRetryAfter(first(res.headers['retry-after']), Date.now());
        return { kind: 'failed', error: `HTTP ${status}`, throttled: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
      }
      if (status < 200 || status >= 300) {
        // 3xx included: following a redirect would send the headers (credentials) elsewhere.
        return { kind: 'failed', error: `HTTP ${status}`, throttled: false };
      }
      if (raw === undefined) return { kind: 'failed', error: `the answer exceeds ${options.maxMessageBytes} bytes`, throttled: false };
      const encoding = (first(res.headers['content-encoding']) ?? 'identity').trim().toLowerCase();
      let bytes: Uint8Array | undefined = raw;
      if (encoding === 'gzip' || encoding === 'x-gzip') bytes = raw.length === 0 ? raw : await gunzipBounded(raw, options.maxMessageBytes);
      else if (encoding !== 'identity') return { kind: 'failed', error: `the answer has Content-Encoding ${encoding}`, throttled: false };
      if (bytes === undefined) return { kind: 'failed', error: `the answer exceeds ${options.maxMessageBytes} bytes after gunzip`, throttled: false };
      let answer: ServerToAgent;
      try {
        answer = fromBinary(ServerToAgentSchema, bytes);
      } catch (e) {
        return { kind: 'failed', error: `the answer is not a ServerToAgent: ${errorText(e)}`, throttled: false };
      }
      return { kind: 'ok', answer };
    } catch (e) {
      const timedOut = deadline.aborted && !signal.aborted;
      return { kind: 'failed', error: timedOut ? `no answer within ${options.timeoutMillis} ms` : errorText(e), throttled: false };
    }
  }

  return {
    send,
    open: false,
    disconnect: () => undefined,
    close: () => agent.close(),
  };
};

/** The whole body, or undefined past `max` bytes (the rest is not read; the connection goes with it). */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): unknown }, max: number): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
