/**
 * OpAMP's WebSocket transport (spec, WebSocket Transport) on undici's WebSocket client: one
 * connection, binary messages both ways at any time, each a varint header (0 in this version of
 * the spec) followed by the encoded message. Loaded by client.ts only for a `ws(s)://` endpoint.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { Agent, WebSocket } from 'undici';
import { ServerToAgentSchema } from '../../gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../gen/opamp/v1/opamp_pb.js';
import { nodeTlsOptions, USER_AGENT } from '../transport/options.js';
import { errorText } from './errors.js';
import type { ResolvedOpampClientOptions } from './options.js';
import type { OpampSendResult, OpampTransport, OpampTransportEvents, OpampTransportFactory } from './transport.js';

/** A WebSocket message: the header (varint 0: one zero byte) then `message`. */
export function frameMessage(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + 1);
  out.set(message, 1);
  return out;
}

/**
 * The message after a WebSocket message's header. Throws when the header is not a complete varint
 * or not 0: the spec reserves other values, and a client SHOULD check it.
 */
export function unframeMessage(data: Uint8Array): Uint8Array {
  let header = 0n;
  let i = 0;
  for (let shift = 0n; ; shift += 7n, i++) {
    if (i >= data.length || i >= 10) throw new Error('the message header is not a valid varint');
    const b = data[i]!;
    header |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
  }
  if (header !== 0n) throw new Error(`the message header is ${header}; this version of OpAMP uses 0`);
  return data.subarray(i + 1);
}

/** The WebSocket transport. */
export const createWebSocketTransport: OpampTransportFactory = (
  options: ResolvedOpampClientOptions,
  events: OpampTransportEvents,
): OpampTransport => {
  const agent = new Agent({ connect: nodeTlsOptions(options.tls) });
  const headers = { 'user-agent': USER_AGENT, ...options.headers };
  let socket: WebSocket | undefined;
  let opening: Promise<string | undefined> | undefined;

  /** Opens the connection; resolves undefined when open, else the reason it did not. */
  function connect(instanceUid: string, signal: AbortSignal): Promise<string | undefined> {
    if (opening !== undefined) return opening;
    opening = new Promise<string | undefined>((resolve) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(options.url, { dispatcher: agent, headers: { ...headers, 'opamp-instance-uid': instanceUid } });
      } catch (e) {
        resolve(errorText(e));
        return;
      }
      ws.binaryType = 'arraybuffer';
      let opened = false;
      const timer = setTimeout(() => fail(`no WebSocket handshake within ${options.timeoutMillis} ms`), options.timeoutMillis);
      timer.unref();
      const onAbort = (): void => fail('stopped');
      signal.addEventListener('abort', onAbort, { once: true });
      function settle(reason: string | undefined): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        opening = undefined;
        resolve(reason);
      }
      function fail(reason: string): void {
        if (opened) return;
        opened = true; // settled
        ws.close();
        settle(reason);
      }
      ws.addEventListener('open', () => {
        if (opened) return;
        opened = true;
        socket = ws;
        settle(undefined);
      });
      ws.addEventListener('message', (event) => {
        if (socket !== ws) return;
        let answer: ServerToAgent;
        try {
          answer = fromBinary(ServerToAgentSchema, unframeMessage(new Uint8Array(event.data as ArrayBuffer)));
        } catch (e) {
          drop(ws, `the server sent a message that is not a ServerToAgent: ${errorText(e)}`, true);
          return;
        }
        events.onMessage(answer);
      });
      ws.addEventListener('close', (event) => {
        // undici reports a failed handshake as an error and then a close (1006) without detail.
        if (!opened) fail(event.code === 1006 ? 'the WebSocket connection failed' : `the WebSocket closed during the handshake (${event.code})`);
        else if (socket === ws) drop(ws, `the server closed the connection (${event.code}${event.reason === '' ? '' : `: ${event.reason}`})`);
      });
      ws.addEventListener('error', () => {
        // The close event that follows says what happened.
      });
    });
    return opening;
  }

  /** Forgets `ws` as the connection (closing it when it is still open) and reports why it ended. */
  function drop(ws: WebSocket, reason: string, closeIt = false): void {
    if (socket !== ws) return;
    socket = undefined;
    // The WebSocket API lets a client send only 1000 or 3000-4999; the reason is ours to report.
    if (closeIt) ws.close(1000);
    events.onClose(reason);
  }

  async function send(message: Uint8Array, instanceUid: string, signal: AbortSignal): Promise<OpampSendResult> {
    if (socket === undefined) {
      const problem = await connect(instanceUid, signal);
      if (problem !== undefined) return { kind: 'failed', error: problem, throttled: false };
    }
    const ws = socket;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return { kind: 'failed', error: 'the WebSocket connection closed', throttled: false };
    try {
      ws.send(frameMessage(message));
    } catch (e) {
      return { kind: 'failed', error: errorText(e), throttled: false };
    }
    return { kind: 'ok', answer: undefined };
  }

  async function close(): Promise<void> {
    const ws = socket;
    socket = undefined;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.timeoutMillis);
        timer.unref();
        ws.addEventListener('close', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.close(1000);
      });
    }
    await agent.close();
  }

  function disconnect(): void {
    const ws = socket;
    socket = undefined;
    ws?.close(1000);
  }

  return {
    send,
    disconnect,
    get open() {
      return socket !== undefined;
    },
    close,
  };
};
