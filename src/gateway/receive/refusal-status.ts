/**
 * Error answers: the google.rpc.Status body OTLP/HTTP sends with a 4xx/5xx (in the
 * request's encoding) and the gRPC status of each refusal, with RetryInfo for backpressure.
 */
import { create, createRegistry, toBinary, toJsonString } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { RetryInfoSchema } from '../../../gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../../gen/google/rpc/status_pb.js';
import { GrpcCode } from '../../transport/grpc-codes.js';
import type { RefusalReason } from '../observe/events.js';

/** HTTP status and gRPC code of each refusal reason (OTLP spec, "Failures" and "Throttling"). */
export const REFUSAL_STATUS: Readonly<Record<RefusalReason, { readonly http: number; readonly grpc: number }>> = Object.freeze({
  unauthenticated: { http: 401, grpc: GrpcCode.Unauthenticated },
  too_large: { http: 413, grpc: GrpcCode.ResourceExhausted },
  malformed: { http: 400, grpc: GrpcCode.InvalidArgument },
  unsupported_media_type: { http: 415, grpc: GrpcCode.Unimplemented },
  not_found: { http: 404, grpc: GrpcCode.Unimplemented },
  method_not_allowed: { http: 405, grpc: GrpcCode.Unimplemented },
  // Only HTTP/1.1 clients get it (at the gRPC port); the gRPC code is never sent.
  wrong_port: { http: 400, grpc: GrpcCode.Unimplemented },
  // 429 + Retry-After / RESOURCE_EXHAUSTED + RetryInfo: both retryable for OTLP clients.
  backpressure: { http: 429, grpc: GrpcCode.ResourceExhausted },
  // 503 / UNAVAILABLE: retryable, so a client sends to another instance or again later.
  draining: { http: 503, grpc: GrpcCode.Unavailable },
  // Not acknowledged, and retryable: the disk may have room again by then.
  storage_unavailable: { http: 503, grpc: GrpcCode.Unavailable },
  internal: { http: 500, grpc: GrpcCode.Internal },
});

const registry = createRegistry(RetryInfoSchema);

/** A RetryInfo delay of `ms`. */
export function retryDelay(ms: number): { seconds: bigint; nanos: number } {
  const whole = Math.floor(ms / 1000);
  return { seconds: BigInt(whole), nanos: Math.round((ms - whole * 1000) * 1e6) };
}

/** A google.rpc.Status body, protobuf or JSON, with a RetryInfo detail when `retryAfterMillis` is set. */
export function statusBody(code: number, message: string, encoding: 'protobuf' | 'json', retryAfterMillis?: number): Uint8Array | string {
  const status = create(StatusSchema, {
    code,
    message,
    details: retryAfterMillis === undefined ? [] : [anyPack(RetryInfoSchema, create(RetryInfoSchema, { retryDelay: retryDelay(retryAfterMillis) }))],
  });
  return encoding === 'json' ? toJsonString(StatusSchema, status, { registry }) : toBinary(StatusSchema, status);
}
