/**
 * The contract between the OpAMP client (client.ts) and its two transports: plain HTTP
 * (http-transport.ts: one POST per message, the answer in the response) and WebSocket
 * (websocket-transport.ts: one connection, messages both ways at any time). The client decides
 * what to send and when; a transport only moves bytes and says how it went, as a value.
 */
import type { ServerToAgent } from '../../gen/opamp/v1/opamp_pb.js';
import type { ResolvedOpampClientOptions } from './options.js';

/** What sending one AgentToServer came to. */
export type OpampSendResult =
  /** Delivered. HTTP: `answer` is the server's ServerToAgent; WebSocket: undefined (answers come through `onMessage`). */
  | { readonly kind: 'ok'; readonly answer: ServerToAgent | undefined }
  /**
   * Not delivered (or no usable answer). `throttled`: the server said it is overloaded (HTTP 429/503);
   * `retryAfterMs`: the delay it asked for (Retry-After).
   */
  | { readonly kind: 'failed'; readonly error: string; readonly throttled: boolean; readonly retryAfterMs?: number };

/** What a transport reports on its own (WebSocket only: HTTP has nothing to say between sends). */
export interface OpampTransportEvents {
  /** A ServerToAgent the server sent. */
  onMessage(message: ServerToAgent): void;
  /** The open connection ended (closed by the server, broken, or a message we could not read). */
  onClose(error: string): void;
}

/** One transport: created once per client, connects (WebSocket) on the first send after a close. */
export interface OpampTransport {
  /** Sends one encoded AgentToServer; `instanceUid` is its UID as UUID text (the OpAMP-Instance-UID header). */
  send(message: Uint8Array, instanceUid: string, signal: AbortSignal): Promise<OpampSendResult>;
  /** Whether a WebSocket is open now; always false for HTTP. */
  readonly open: boolean;
  /** Drops the connection now, without `onClose` (the client asked for it); the next send connects again. HTTP: nothing to drop. */
  disconnect(): void;
  /** Closes for good (WebSocket: a Close frame, then waits for the server's, at most `timeoutMillis`) and frees sockets. */
  close(): Promise<void>;
}

/** How client.ts builds a transport; each transport module exports one. */
export type OpampTransportFactory = (options: ResolvedOpampClientOptions, events: OpampTransportEvents) => OpampTransport;
