/**
 * otlp-fanout integration API (`otlp-fanout/integration`): transports, the backend queue,
 * encoders and decoders, the zero-decode scanner, the gateway and the OpAMP client. Separate from the main
 * entry because these load undici, connect-node and the gateway.
 */
export type { Encoding, ExportResult, ExportCallOptions, Transport } from './transport/types.js';
export { TransportError, TransportOptionError, type TransportErrorCode } from './transport/errors.js';
export { createOtlpGrpcTransport, type OtlpGrpcTransportOptions } from './transport/grpc.js';
export { createOtlpHttpTransport, type OtlpHttpTransportOptions } from './transport/http.js';
export { protobufToJsonBody } from './transport/json-body.js';
export { createBackend } from './export/backend.js';
export type { Backend, BackendStats, BackendShutdownReport, QueueLimits } from './export/backend.js';
export type { RetryPolicy } from './export/retry.js';
export { createMemoryTransport } from './export/memory.js';
export { encodeMetricsRequest, type ExportMetricsRequestShape } from './otlp/encode/metrics-request.js';
export { encodeJson, decodeJson, OtlpJsonError } from './otlp/json.js';
export { protobufToJson } from './otlp/json-from-protobuf.js';
export { scanRequest, spliceEntries, WireFormatError } from './otlp/scan.js';
export { startGateway } from './gateway/gateway.js';
export type { Gateway, GatewayOptions } from './gateway/gateway.js';
export type { GatewayObserver } from './gateway/observe/events.js';
export type {
  IgnoredSetting,
  ReceiverChange,
  ReloadDiff,
  ReloadProblem,
  ReloadResult,
  RestartNeeded,
  RetiredEvent,
} from './gateway/observe/events.js';
export { loadGatewayConfig } from './gateway/config/load.js';
export type { LoadOptions } from './gateway/config/load.js';
export type { RemoteLoadOptions } from './gateway/config/remote.js';
export { GatewayConfigError } from './gateway/config/config-error.js';
export type { GatewayConfig } from './gateway/config/gateway-config.js';
export { createOpampClient } from './opamp/client.js';
export type { OpampClient, OpampClientStatus, RemoteConfigState } from './opamp/client.js';
export type { AgentDescriptionOptions, OpampClientOptions, OwnTelemetryDestination } from './opamp/options.js';
export type { ComponentHealthReport } from './opamp/health.js';
export type { RemoteConfigDocument, RemoteConfigResult } from './opamp/remote-config.js';
export { instanceUid } from './opamp/instance-uid.js';
export { OpampOptionError } from './opamp/errors.js';
