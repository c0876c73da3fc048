/**
 * The gateway's receivers (gRPC, HTTP) as one set that a reload changes in two steps, so that a
 * reload that fails leaves them as they were: `prepare(next)` validates the TLS pairs and binds
 * every new listener while the running ones keep serving, `commit()` then makes the switch
 * without waiting (new certificates installed, replaced and removed listeners closed with a
 * grace period for their requests in flight), or `discard()` closes what prepare opened.
 *
 * What makes a receiver change (docs/gateway.md, Reload): another address → a new listener
 * (the new one listens before the old one closes; a port cannot be bound twice, so the new
 * address must not overlap the old one); the same address with another certificate or key →
 * the running server's TLS context is replaced (`setSecureContext`), no rebind; turned on or
 * off → started or closed. Turning TLS on or off at the same address needs a restart: it is a
 * different server on the same port (the reload reports it and keeps the receiver as is).
 */
import * as tls from 'node:tls';
import { GatewayConfigError } from './config/config-error.js';
import type { ReceiverConfig } from './config/receivers.js';
import { formatAddress } from './config/values.js';
import type { GatewayObserver, ListenAddresses, ReceiverChange } from './observe/events.js';
import { startHttpReceiver } from './receive/http-receiver.js';
import type { PipelineSource, ReceiverHandle } from './receive/receiver.js';

type Kind = 'grpc' | 'http';
const KINDS: readonly Kind[] = ['grpc', 'http'];

/** The receivers' part of a configuration. */
export type ReceiversConfig = { readonly [K in Kind]: ReceiverConfig | null };

export interface ReceiverSetOptions {
  /** Fixed for the receivers' life (connect takes it once). */
  readonly maxRequestBytes: number;
  readonly pipeline: PipelineSource;
  /** Already guarded. */
  readonly observer: GatewayObserver;
}

/** A receiver could not listen on its address. */
export class ReceiverBindError extends Error {
  override readonly name = 'ReceiverBindError';
  constructor(
    readonly receiver: Kind,
    readonly address: string,
    override readonly cause: unknown,
  ) {
    super(
      `the ${receiver === 'grpc' ? 'gRPC' : 'HTTP'} receiver cannot listen on ${address}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

let grpcModule: Promise<typeof import('./receive/grpc-receiver.js')> | undefined;

/** The gRPC receiver's module. Loaded only when gRPC is on: connect and its HTTP/2 router are most of an HTTP-only gateway's start-up. */
function loadGrpc(): Promise<typeof import('./receive/grpc-receiver.js')> {
  grpcModule ??= import('./receive/grpc-receiver.js');
  return grpcModule;
}

/** Starts loading what `config`'s receivers need (the gRPC receiver's module), so that it overlaps other start-up work. */
export function preloadReceivers(config: ReceiversConfig): void {
  // Observed here too, so a failed load cannot go unhandled before prepare() awaits it.
  if (config.grpc !== null) loadGrpc().catch(() => undefined);
}

/** The changes {@link ReceiverSet.prepare} made ready. */
export interface ReceiverPlan {
  /** What commit() changes, per receiver. */
  readonly changes: readonly ReceiverChange[];
  /** Switches to the prepared receivers; synchronous. */
  commit(): void;
  /** Closes the listeners prepare() opened; the running receivers are untouched. */
  discard(): Promise<void>;
}

export interface ReceiverSet {
  /** The bound addresses now. */
  readonly addresses: ListenAddresses;
  /**
   * Readies the receivers of `config`: rejects with GatewayConfigError for an unusable TLS pair
   * (at `receivers.<kind>.tls`) and with ReceiverBindError when an address cannot be bound; then
   * nothing changed.
   */
  prepare(config: ReceiversConfig): Promise<ReceiverPlan>;
  /** Closes every receiver now, the ones still closing after a reload included. */
  close(): Promise<void>;
}

/**
 * How long a receiver a reload moved or turned off lets its requests in flight finish: a request is
 * answered once its body is read, so this bounds a slow client's upload, not the gateway's work.
 */
export const RECEIVER_CLOSE_GRACE_MILLIS = 5000;

interface Running {
  readonly config: ReceiverConfig;
  readonly handle: ReceiverHandle;
}

export function createReceiverSet(options: ReceiverSetOptions): ReceiverSet {
  const current: { [K in Kind]: Running | undefined } = { grpc: undefined, http: undefined };
  const closing = new Set<ReceiverHandle>();
  // For the gRPC receiver's answer to OTLP/HTTP sent to its port.
  const httpUrl = (): string | undefined => {
    const h = current.http;
    return h === undefined ? undefined : `${h.config.tls === null ? 'http' : 'https'}://${formatAddress(h.handle.host, h.handle.port)}`;
  };
  const common = { maxRequestBytes: options.maxRequestBytes, pipeline: options.pipeline, observer: options.observer };

  async function start(kind: Kind, config: ReceiverConfig): Promise<ReceiverHandle> {
    try {
      if (kind === 'http') return await startHttpReceiver({ ...common, config });
      return await (await loadGrpc()).startGrpcReceiver({ ...common, config, httpUrl });
    } catch (e) {
      throw new ReceiverBindError(kind, formatAddress(config.host, config.port), e);
    }
  }

  function retire(handle: ReceiverHandle): void {
    closing.add(handle);
    handle.close(RECEIVER_CLOSE_GRACE_MILLIS).then(
      () => closing.delete(handle),
      () => closing.delete(handle),
    );
  }

  return {
    get addresses() {
      const address = (r: Running | undefined): string | undefined => (r === undefined ? undefined : formatAddress(r.handle.host, r.handle.port));
      return Object.freeze({ grpc: address(current.grpc), http: address(current.http) });
    },
    async prepare(config) {
      type Step = { readonly kind: Kind; readonly change: ReceiverChange['change']; readonly next: ReceiverConfig | null };
      const steps: Step[] = [];
      for (const kind of KINDS) {
        const running = current[kind]?.config ?? null;
        const next = config[kind];
        if (running === null && next === null) continue;
        if (running === null) steps.push({ kind, change: 'started', next });
        else if (next === null) steps.push({ kind, change: 'stopped', next });
        else if (running.host !== next.host || running.port !== next.port) steps.push({ kind, change: 'rebound', next });
        else if (next.tls !== null && (running.tls?.cert !== next.tls.cert || running.tls.key !== next.tls.key)) {
          steps.push({ kind, change: 'certificate', next });
        }
      }
      // Every new TLS pair is checked before anything binds: a rotated certificate that does not match its key is a config error.
      for (const s of steps) {
        if (s.next?.tls == null) continue;
        try {
          tls.createSecureContext({ cert: s.next.tls.cert, key: s.next.tls.key });
        } catch (e) {
          throw new GatewayConfigError(
            `receivers.${s.kind}.tls`,
            `the certificate and key cannot be used: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      }
      const opened = new Map<Kind, ReceiverHandle>();
      try {
        // gRPC first: it asks for the HTTP receiver's URL only when a request comes.
        for (const s of steps) if (s.change === 'started' || s.change === 'rebound') opened.set(s.kind, await start(s.kind, s.next!));
      } catch (e) {
        await Promise.all([...opened.values()].map((h) => h.close()));
        throw e;
      }
      const changes = steps.map((s): ReceiverChange => {
        const handle = opened.get(s.kind) ?? current[s.kind]?.handle;
        return {
          receiver: s.kind,
          change: s.change,
          address: s.next === null || handle === undefined ? undefined : formatAddress(handle.host, handle.port),
        };
      });
      let settled = false;
      return {
        changes,
        commit() {
          if (settled) return;
          settled = true;
          for (const s of steps) {
            const before = current[s.kind];
            if (s.change === 'certificate') {
              // Checked above, so this does not throw.
              before!.handle.setCertificate(s.next!.tls!);
              current[s.kind] = { config: s.next!, handle: before!.handle };
              continue;
            }
            const handle = opened.get(s.kind);
            current[s.kind] = handle === undefined ? undefined : { config: s.next!, handle };
            if (before !== undefined) retire(before.handle);
          }
        },
        async discard() {
          if (settled) return;
          settled = true;
          await Promise.all([...opened.values()].map((h) => h.close()));
        },
      };
    },
    async close() {
      const all = [current.grpc?.handle, current.http?.handle, ...closing];
      await Promise.all(all.map((h) => h?.close()));
    },
  };
}
