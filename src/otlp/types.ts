/**
 * Plain JavaScript shapes that the public API accepts. They are structurally the
 * same as `@opentelemetry/api`'s `Attributes`/`AttributeValue`, so code written
 * against that API passes its values to us unchanged.
 */

/** An attribute value: a primitive or a homogeneous array of one primitive kind. */
export type AttributeValue =
  | string
  | number
  | boolean
  | ReadonlyArray<string | null | undefined>
  | ReadonlyArray<number | null | undefined>
  | ReadonlyArray<boolean | null | undefined>;

/** Attributes as callers write them; `undefined` values are ignored. */
export interface Attributes {
  [key: string]: AttributeValue | undefined;
}

/**
 * Any value a log body or log attribute may hold (OTLP AnyValue): primitives,
 * bytes, arrays and nested maps. `bigint` becomes `int_value`; a `number` becomes
 * `int_value` when it is a safe integer and `double_value` otherwise.
 */
export type AnyValueInput =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | null
  | undefined
  | ReadonlyArray<AnyValueInput>
  | { readonly [key: string]: AnyValueInput };

/** The three OTLP signals, named as in the OTLP/HTTP paths (`/v1/<signal>`). */
export type Signal = 'metrics' | 'logs' | 'traces';

/** The instrumentation scope of a meter or logger. */
export interface ScopeInfo {
  readonly name: string;
  readonly version?: string;
  readonly schemaUrl?: string;
  readonly attributes?: Attributes;
}
