/**
 * The OpAMP client (opamp-spec v0.18.0): reports the agent's description, health, effective config
 * and remote-config status to an OpAMP server, and applies the configs the server offers through a
 * callback. Transport-independent: what to send and when is decided here, the transports
 * (transport.ts) only move bytes.
 *
 * When a message is sent (spec, Status Reporting and Agent Status Compression):
 * - the first message after start() or after any failure carries the full state (the server may
 *   have missed anything), as does the next one after the server sets ReportFullState;
 * - otherwise a message carries only the parts whose encoded bytes changed since they were last
 *   sent, and it is sent only when one did (`healthChanged()`, `effectiveConfigChanged()`, a
 *   remote-config status change) or as a heartbeat/poll every `pollingIntervalMillis`. A server
 *   message that changes nothing gets no reply, so client and server can never loop.
 * - after a failure, nothing is sent until the backoff (or the server's delay) has passed; then the
 *   next message goes out with the full state.
 *
 * One message is in flight at a time; changes made meanwhile go out right after it. Every timer is
 * unref()ed: the client never keeps a process alive on its own (an open WebSocket does, like any
 * connection).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { createHash } from 'node:crypto';
import {
  AgentCapabilities,
  AgentConfigMapSchema,
  AgentDescriptionSchema,
  AgentToServerSchema,
  ComponentHealthSchema,
  EffectiveConfigSchema,
  RemoteConfigStatusSchema,
  RemoteConfigStatuses,
  ServerErrorResponseType,
  ServerToAgentFlags,
} from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRemoteConfig, AgentToServer, ServerToAgent } from '../../gen/opamp/v1/opamp_pb.js';
import { retryDelayMillis } from '../export/retry.js';
import { warnOnce } from '../internal/warn.js';
import { agentDescription } from './description.js';
import { errorText } from './errors.js';
import { componentHealth } from './health.js';
import { formatUuid, instanceUid as storedInstanceUid, storeInstanceUid } from './instance-uid.js';
import { validateOpampClientOptions } from './options.js';
import type { OpampClientOptions, ResolvedOpampClientOptions } from './options.js';
import { loadRemoteConfig, selectYamlDocument, storeRemoteConfig } from './remote-config.js';
import type { RemoteConfigDocument, RemoteConfigResult } from './remote-config.js';
import type { OpampSendResult, OpampTransport, OpampTransportEvents } from './transport.js';

/** Where the last remote config stands, as reported to the server. */
export type RemoteConfigState = 'unset' | 'applying' | 'applied' | 'failed';

/** A snapshot of the client, for the gateway's own status pages and for tests. */
export interface OpampClientStatus {
  /** HTTP: the last exchange succeeded; WebSocket: the connection is open. */
  readonly connected: boolean;
  /** Why the last exchange or connection failed; undefined after a success. Never holds header values. */
  readonly lastError: string | undefined;
  /** The instance UID as UUID text (the server may have assigned a new one). */
  readonly instanceUid: string;
  /** Messages sent so far: the last sequence_num used. */
  readonly sequenceNum: bigint;
  readonly remoteConfig: {
    readonly state: RemoteConfigState;
    /** The config hash it is about (empty when unset). */
    readonly hash: Uint8Array;
    /** Why it failed. */
    readonly error: string | undefined;
  };
}

/** The OpAMP client; build it with {@link createOpampClient}. */
export interface OpampClient {
  /**
   * Starts: settles the instance UID, applies the stored remote config (when `stateDirectory` holds one,
   * before anything is sent, so the agent comes back as it was without the server), then connects in
   * the background. Resolves once that is done; connection failures never reject it (see `status()`).
   */
  start(): Promise<void>;
  /** Stops: sends agent_disconnect when connected (bounded by `timeoutMillis`), closes the connection, waits for an apply in progress. */
  stop(): Promise<void>;
  /** The agent's health changed: report it (if its encoding differs from what was last sent). */
  healthChanged(): void;
  /** The effective config changed: report it (if it differs from what was last sent). */
  effectiveConfigChanged(): void;
  status(): OpampClientStatus;
}

/** The throttling wait when the server gives none (spec, Throttling: "The minimum recommended retry interval is 30 seconds"). */
const THROTTLED_MIN_MS = 30_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Creates an OpAMP client. Validates `options` now and throws {@link OpampOptionError} when one
 * cannot be used; nothing is read, sent or opened before `start()`.
 */
export function createOpampClient(options: OpampClientOptions): OpampClient {
  return new Engine(validateOpampClientOptions(options));
}

/** The last encoding sent of each compressible part: undefined means "not sent since the last full report". */
interface Sent {
  description?: Uint8Array;
  health?: Uint8Array;
  effectiveConfig?: Uint8Array;
  remoteConfigStatus?: Uint8Array;
}

class Engine implements OpampClient, OpampTransportEvents {
  readonly #o: ResolvedOpampClientOptions;
  readonly #capabilities: bigint;
  #uid = new Uint8Array(16);
  #uidText = formatUuid(this.#uid);
  #description = create(AgentDescriptionSchema);
  #descriptionBytes = new Uint8Array(0);
  #transport: OpampTransport | undefined;
  #seq = 0n;
  #sent: Sent = {};
  #full = true;
  #phase: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #sending = false;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #timerKind: 'soon' | 'heartbeat' | 'retry' | undefined;
  #failures = 0;
  #lastSendAt = 0;
  #heartbeatMillis: number | null;
  #connected = false;
  #heard = false;
  #lastError: string | undefined;
  readonly #stop = new AbortController();
  // Remote config: the status reported, the offer being applied and the latest one waiting.
  #remote: { state: RemoteConfigState; hash: Uint8Array; error: string | undefined } = { state: 'unset', hash: new Uint8Array(0), error: undefined };
  #lastOfferKey: string | undefined;
  #applying: Promise<void> | undefined;
  #waiting: AgentRemoteConfig | undefined;
  #ownMetricsKey: string | undefined;

  constructor(options: ResolvedOpampClientOptions) {
    this.#o = options;
    let caps = AgentCapabilities.REPORTS_STATUS | AgentCapabilities.REPORTS_HEARTBEAT;
    if (options.health !== undefined) caps |= AgentCapabilities.REPORTS_HEALTH;
    if (options.effectiveConfig !== undefined) caps |= AgentCapabilities.REPORTS_EFFECTIVE_CONFIG;
    if (options.onRemoteConfig !== undefined) caps |= AgentCapabilities.ACCEPTS_REMOTE_CONFIG | AgentCapabilities.REPORTS_REMOTE_CONFIG;
    if (options.onOwnMetrics !== undefined) caps |= AgentCapabilities.REPORTS_OWN_METRICS;
    this.#capabilities = BigInt(caps);
    this.#heartbeatMillis = options.pollingIntervalMillis;
  }

  async start(): Promise<void> {
    if (this.#phase !== 'new') throw new Error('the OpAMP client was already started');
    this.#phase = 'starting';
    this.#setUid(this.#o.instanceUid ?? (await storedInstanceUid(this.#o.stateDirectory)));
    if (this.#o.stateDirectory !== undefined && this.#o.onRemoteConfig !== undefined) {
      const stored = await loadRemoteConfig(this.#o.stateDirectory);
      if (stored !== undefined) {
        this.#lastOfferKey = stored.hash.length > 0 ? hex(stored.hash) : undefined;
        await (this.#applying = this.#apply(stored, false));
        this.#applying = undefined;
      }
    }
    // The transport that is not used is never loaded (its undici WebSocket or request paths).
    const factory =
      this.#o.transport === 'http'
        ? (await import('./http-transport.js')).createHttpTransport
        : (await import('./websocket-transport.js')).createWebSocketTransport;
    if ((this.#phase as string) !== 'starting') return; // stopped meanwhile
    this.#transport = factory(this.#o, this);
    this.#phase = 'running';
    this.#schedule('soon', 0);
  }

  async stop(): Promise<void> {
    if (this.#phase === 'stopping' || this.#phase === 'stopped') return;
    const wasRunning = this.#phase === 'running';
    this.#phase = 'stopping';
    this.#clearTimer();
    this.#stop.abort();
    await this.#applying;
    const transport = this.#transport;
    if (transport !== undefined) {
      // The in-flight send (aborted above) settles before the goodbye goes out on the same transport.
      while (this.#sending) await new Promise((r) => setImmediate(r));
      if (wasRunning && (this.#connected || transport.open)) {
        const goodbye = create(AgentToServerSchema, {
          instanceUid: this.#uid,
          sequenceNum: ++this.#seq,
          capabilities: this.#capabilities,
          agentDisconnect: {},
        });
        await transport.send(toBinary(AgentToServerSchema, goodbye), this.#uidText, AbortSignal.timeout(this.#o.timeoutMillis));
      }
      await transport.close().catch(() => undefined);
    }
    this.#connected = false;
    this.#phase = 'stopped';
  }

  healthChanged(): void {
    if (this.#o.health !== undefined) this.#kick();
  }

  effectiveConfigChanged(): void {
    if (this.#o.effectiveConfig !== undefined) this.#kick();
  }

  status(): OpampClientStatus {
    return {
      connected: this.#connected,
      lastError: this.#lastError,
      instanceUid: this.#uidText,
      sequenceNum: this.#seq,
      remoteConfig: { state: this.#remote.state, hash: this.#remote.hash, error: this.#remote.error },
    };
  }

  // ---- WebSocket events (OpampTransportEvents) ----

  onMessage(message: ServerToAgent): void {
    if (this.#phase !== 'running') return;
    if (this.#receive(message) !== undefined) return;
    // The server answers: the connection works, and the next failure starts a fresh backoff.
    this.#heard = true;
    this.#failures = 0;
    this.#connected = true;
    this.#lastError = undefined;
  }

  onClose(error: string): void {
    this.#connected = false;
    this.#full = true;
    if (this.#phase !== 'running') return;
    this.#lastError = error;
    // A connection that worked is retried at once (spec, Restoring WebSocket Connection); one that
    // never got an answer counts as a failure, so a server that accepts and drops cannot make a loop.
    const delay = this.#heard ? 0 : retryDelayMillis(this.#o.retry, ++this.#failures, undefined);
    this.#heard = false;
    this.#schedule('retry', delay);
  }

  // ---- Sending ----

  /** Something may have changed: send soon, unless a send is in flight (then right after it) or a backoff is running. */
  #kick(): void {
    if (this.#phase !== 'running') return;
    if (this.#sending) {
      this.#again = true;
      return;
    }
    // A backoff ends in a full report anyway; a pending 'soon' already covers this change.
    if (this.#timerKind === 'retry' || this.#timerKind === 'soon') return;
    // A timer rather than an immediate send: changes made in the same turn go out in one message.
    this.#schedule('soon', 0);
  }

  #schedule(kind: 'soon' | 'heartbeat' | 'retry', ms: number): void {
    this.#clearTimer();
    this.#timerKind = kind;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerKind = undefined;
      this.#cycle(kind).catch((e: unknown) => {
        // #cycle catches what it calls; reaching here is a bug, reported rather than left unhandled.
        this.#sending = false;
        this.#lastError = errorText(e);
        warnOnce('opamp-client-bug', `OpAMP client failure: ${errorText(e)}`);
      });
    }, ms);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerKind = undefined;
  }

  /** Builds and sends one message (if there is anything to say), then arranges the next. */
  async #cycle(reason: 'soon' | 'heartbeat' | 'retry'): Promise<void> {
    if (this.#phase !== 'running' || this.#transport === undefined) return;
    // A WebSocket that is not open must be (re)opened with a status report as its first message.
    const full = this.#full || (this.#o.transport === 'websocket' && !this.#transport.open);
    const message = this.#build(full);
    if (message === undefined && reason === 'soon') {
      this.#afterSuccess();
      return;
    }
    this.#sending = true;
    this.#again = false;
    this.#lastSendAt = performance.now();
    const msg = message ?? this.#bare();
    msg.sequenceNum = ++this.#seq;
    this.#full = false;
    let result: OpampSendResult;
    try {
      result = await this.#transport.send(toBinary(AgentToServerSchema, msg), this.#uidText, this.#stop.signal);
    } finally {
      this.#sending = false;
    }
    if (this.#phase !== 'running') return;
    if (result.kind === 'ok' && result.answer !== undefined) {
      const failure = this.#receive(result.answer);
      if (failure !== undefined) result = failure;
    }
    if (result.kind === 'failed') {
      this.#fail(result);
      return;
    }
    this.#connected = true;
    this.#lastError = undefined;
    if (this.#o.transport === 'http') this.#failures = 0;
    this.#afterSuccess();
  }

  /** After a send (or a decision not to send): again at once if something changed meanwhile, else the next heartbeat. */
  #afterSuccess(): void {
    if (this.#phase !== 'running' || this.#timerKind === 'retry' || this.#timerKind === 'soon') return;
    if (this.#again || this.#full) {
      this.#again = false;
      this.#schedule('soon', 0);
      return;
    }
    const every = this.#heartbeatMillis;
    if (every === null) {
      this.#clearTimer();
      return;
    }
    // Counted from the last message sent (spec, heartbeat_interval_seconds), so that frequent change
    // notices that change nothing cannot postpone the heartbeat forever.
    this.#schedule('heartbeat', Math.max(0, this.#lastSendAt + every - performance.now()));
  }

  #fail(result: Extract<OpampSendResult, { kind: 'failed' }>): void {
    this.#lastError = result.error;
    this.#full = true;
    this.#failures++;
    let delay = result.retryAfterMs ?? retryDelayMillis(this.#o.retry, this.#failures, undefined);
    if (result.throttled && result.retryAfterMs === undefined) delay = Math.max(THROTTLED_MIN_MS, delay);
    // setTimeout fires at once for anything longer (a server asking for days, say).
    delay = Math.min(delay, MAX_TIMER_MS);
    // Spec, Throttling (WebSocket): disconnect, wait, then reconnect. HTTP has nothing to close.
    this.#transport?.disconnect();
    this.#connected = false;
    this.#schedule('retry', delay);
  }

  /** Heartbeat: what every message carries and nothing else. */
  #bare(): AgentToServer {
    return create(AgentToServerSchema, { instanceUid: this.#uid, capabilities: this.#capabilities });
  }

  /**
   * The next message: every part when `full`, else the parts whose encoding changed since last sent;
   * undefined when none did. The parts are remembered as sent now; a failed send sets #full, so a
   * part lost with it is sent again.
   */
  #build(full: boolean): AgentToServer | undefined {
    if (full) this.#sent = {};
    const msg = this.#bare();
    let changed = false;
    if (differs(this.#sent.description, this.#descriptionBytes)) {
      this.#sent.description = this.#descriptionBytes;
      msg.agentDescription = this.#description;
      changed = true;
    }
    const health = this.#call('health', () => (this.#o.health === undefined ? undefined : componentHealth(this.#o.health())));
    if (health !== undefined) {
      const bytes = toBinary(ComponentHealthSchema, health);
      if (differs(this.#sent.health, bytes)) {
        this.#sent.health = bytes;
        msg.health = health;
        changed = true;
      }
    }
    const yaml = this.#call('effectiveConfig', () => this.#o.effectiveConfig?.());
    if (yaml !== undefined) {
      const effective = create(EffectiveConfigSchema, {
        configMap: create(AgentConfigMapSchema, { configMap: { '': { body: new TextEncoder().encode(yaml), contentType: 'text/yaml' } } }),
      });
      const bytes = toBinary(EffectiveConfigSchema, effective);
      if (differs(this.#sent.effectiveConfig, bytes)) {
        this.#sent.effectiveConfig = bytes;
        msg.effectiveConfig = effective;
        changed = true;
      }
    }
    if (this.#o.onRemoteConfig !== undefined) {
      const status = create(RemoteConfigStatusSchema, {
        lastRemoteConfigHash: this.#remote.hash,
        status: STATUS_CODES[this.#remote.state],
        errorMessage: this.#remote.error ?? '',
      });
      const bytes = toBinary(RemoteConfigStatusSchema, status);
      if (differs(this.#sent.remoteConfigStatus, bytes)) {
        this.#sent.remoteConfigStatus = bytes;
        msg.remoteConfigStatus = status;
        changed = true;
      }
    }
    return changed ? msg : undefined;
  }

  /** A caller's callback, guarded: one that throws leaves its part out of the message, warned about once. */
  #call<T>(name: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      warnOnce(`opamp-callback:${name}`, `OpAMP client: the ${name}() callback failed: ${errorText(e)}`);
      return undefined;
    }
  }

  // ---- Receiving ----

  /** Acts on a server message; returns a failure for an error response (the caller backs off). */
  #receive(message: ServerToAgent): Extract<OpampSendResult, { kind: 'failed' }> | undefined {
    // Messages for another agent (a multiplexing proxy) are not ours to act on.
    if (message.instanceUid.length > 0 && !equal(message.instanceUid, this.#uid)) return undefined;
    const error = message.errorResponse;
    if (error !== undefined) {
      const text = `the server answered ${ERROR_TYPES[error.type] ?? `error ${error.type}`}${error.errorMessage === '' ? '' : `: ${error.errorMessage}`}`;
      // Every error backs off, then the next message carries the full state. For BAD_REQUEST too: the
      // spec asks not to send that message again at once, and an immediate new report could loop.
      const retry = error.details.case === 'retryInfo' ? Number(error.details.value.retryAfterNanoseconds / 1_000_000n) : undefined;
      const throttled = error.type === ServerErrorResponseType.UNAVAILABLE;
      const failure = { kind: 'failed' as const, error: text, throttled, ...(throttled && retry !== undefined ? { retryAfterMs: retry } : {}) };
      // On WebSocket an error can arrive on its own: handle it here. Over HTTP the send's caller does.
      if (this.#o.transport === 'websocket') this.#fail(failure);
      return failure;
    }
    const newUid = message.agentIdentification?.newInstanceUid;
    if (newUid !== undefined && newUid.length === 16 && !equal(newUid, this.#uid)) {
      this.#setUid(newUid);
      if (this.#o.instanceUid === undefined && this.#o.stateDirectory !== undefined) void storeInstanceUid(this.#o.stateDirectory, newUid);
      this.#full = true;
    }
    const opamp = message.connectionSettings?.opamp;
    if (opamp !== undefined) {
      // Spec, OpAMPConnectionSettings.heartbeat_interval_seconds: the server's period replaces ours;
      // 0 turns WebSocket heartbeats off. HTTP keeps polling at its own period then: without polls
      // the server could never hand over a config.
      const seconds = Number(opamp.heartbeatIntervalSeconds);
      const every = seconds > 0 ? Math.min(seconds * 1000, MAX_TIMER_MS) : this.#o.transport === 'http' ? this.#o.pollingIntervalMillis : null;
      if (every !== this.#heartbeatMillis) {
        this.#heartbeatMillis = every;
        // A heartbeat already due under the old period is rescheduled (a WebSocket push comes between sends).
        if (!this.#sending && (this.#timerKind === 'heartbeat' || this.#timerKind === undefined)) this.#afterSuccess();
      }
    }
    if (message.remoteConfig !== undefined && this.#o.onRemoteConfig !== undefined) this.#offer(message.remoteConfig);
    const ownMetrics = message.connectionSettings?.ownMetrics;
    if (ownMetrics !== undefined && this.#o.onOwnMetrics !== undefined) {
      const destination = {
        endpoint: ownMetrics.destinationEndpoint,
        headers: Object.fromEntries((ownMetrics.headers?.headers ?? []).map((h) => [h.key, h.value])),
      };
      const key = JSON.stringify(destination);
      if (key !== this.#ownMetricsKey) {
        this.#ownMetricsKey = key;
        const callback = this.#o.onOwnMetrics;
        this.#call('onOwnMetrics', () => callback(destination));
      }
    }
    if ((message.flags & BigInt(ServerToAgentFlags.REPORT_FULL_STATE)) !== 0n) this.#full = true;
    if (this.#full) this.#kick();
    return undefined;
  }

  #setUid(uid: Uint8Array): void {
    this.#uid = new Uint8Array(uid);
    this.#uidText = formatUuid(this.#uid);
    this.#description = agentDescription(this.#o.description, this.#uidText);
    this.#descriptionBytes = toBinary(AgentDescriptionSchema, this.#description);
  }

  // ---- Remote config ----

  /** A config offer: applied unless it is the last one seen; one apply at a time, the latest offer waits. */
  #offer(offer: AgentRemoteConfig): void {
    const key =
      offer.configHash.length > 0
        ? hex(offer.configHash)
        : `sha256:${sha256(toBinary(AgentConfigMapSchema, offer.config ?? create(AgentConfigMapSchema)))}`;
    if (key === this.#lastOfferKey) return;
    if (this.#applying !== undefined) {
      this.#waiting = offer;
      return;
    }
    this.#lastOfferKey = key;
    const chosen = selectYamlDocument(offer);
    if (chosen.kind === 'failed') {
      this.#setRemote('failed', offer.configHash, chosen.error);
      return;
    }
    this.#applying = this.#apply(chosen.document, true).finally(() => {
      this.#applying = undefined;
      const next = this.#waiting;
      this.#waiting = undefined;
      if (next !== undefined && this.#phase === 'running') this.#offer(next);
    });
  }

  /** APPLYING, the callback, then APPLIED or FAILED; an applied offer is stored for the next start. */
  async #apply(document: RemoteConfigDocument, store: boolean): Promise<void> {
    this.#setRemote('applying', document.hash, undefined);
    let result: RemoteConfigResult;
    try {
      result = await this.#o.onRemoteConfig!(document);
    } catch (e) {
      result = { applied: false, error: errorText(e) };
    }
    if (result.applied) {
      if (store && this.#o.stateDirectory !== undefined) await storeRemoteConfig(this.#o.stateDirectory, document);
      this.#setRemote('applied', document.hash, undefined);
    } else {
      this.#setRemote('failed', document.hash, typeof result.error === 'string' && result.error !== '' ? result.error : 'not applied');
    }
  }

  #setRemote(state: RemoteConfigState, hash: Uint8Array, error: string | undefined): void {
    this.#remote = { state, hash, error };
    this.#kick();
  }
}

const STATUS_CODES: Readonly<Record<RemoteConfigState, RemoteConfigStatuses>> = {
  unset: RemoteConfigStatuses.UNSET,
  applying: RemoteConfigStatuses.APPLYING,
  applied: RemoteConfigStatuses.APPLIED,
  failed: RemoteConfigStatuses.FAILED,
};

const ERROR_TYPES: Readonly<Record<number, string>> = {
  [ServerErrorResponseType.UNKNOWN]: 'UNKNOWN',
  [ServerErrorResponseType.BAD_REQUEST]: 'BAD_REQUEST',
  [ServerErrorResponseType.UNAVAILABLE]: 'UNAVAILABLE',
};

function differs(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a === undefined || !equal(a, b);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
