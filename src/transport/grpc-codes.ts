/**
 * gRPC status codes (the google.rpc.Code numbers, which connect's `Code` enum has too) and
 * their canonical names. Our own table so that paths without gRPC, the HTTP transport and the
 * gateway's HTTP receiver, never load connect (~30 ms to import and ~0.5 MiB of heap on top of
 * what the HTTP transport loads).
 */
export const GrpcCode = Object.freeze({
  Ok: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const);

/** Canonical gRPC status names, as the spec tables write them. */
export const GRPC_CODE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [GrpcCode.Ok]: 'OK',
  [GrpcCode.Canceled]: 'CANCELLED',
  [GrpcCode.Unknown]: 'UNKNOWN',
  [GrpcCode.InvalidArgument]: 'INVALID_ARGUMENT',
  [GrpcCode.DeadlineExceeded]: 'DEADLINE_EXCEEDED',
  [GrpcCode.NotFound]: 'NOT_FOUND',
  [GrpcCode.AlreadyExists]: 'ALREADY_EXISTS',
  [GrpcCode.PermissionDenied]: 'PERMISSION_DENIED',
  [GrpcCode.ResourceExhausted]: 'RESOURCE_EXHAUSTED',
  [GrpcCode.FailedPrecondition]: 'FAILED_PRECONDITION',
  [GrpcCode.Aborted]: 'ABORTED',
  [GrpcCode.OutOfRange]: 'OUT_OF_RANGE',
  [GrpcCode.Unimplemented]: 'UNIMPLEMENTED',
  [GrpcCode.Internal]: 'INTERNAL',
  [GrpcCode.Unavailable]: 'UNAVAILABLE',
  [GrpcCode.DataLoss]: 'DATA_LOSS',
  [GrpcCode.Unauthenticated]: 'UNAUTHENTICATED',
});
