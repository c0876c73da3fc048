/**
 * Writes one collection as `ExportMetricsServiceRequest` bodies, opening the resource,
 * scope and metric envelopes lazily (a metric with no point is not written) and
 * starting a new body before a point would pass `maxPointsPerRequest` or
 * `maxRequestBytes`.
 *
 * Byte accounting is an upper bound, checked before the point is written: every open
 * length prefix is counted at its largest (5 bytes) and the closing fields (schema
 * URLs, temporality, monotonic flag) are reserved in advance, so a body never ends up
 * larger than the limit. Points know their exact size (`Columns.pointSize`).
 */
import { BinaryWriter } from '../otlp/encode/binary-writer.js';
import {
  beginMetric,
  beginResourceMetrics,
  beginScopeMetrics,
  endMetric,
  endResourceMetrics,
  endScopeMetrics,
  type MetricDataKind,
  type TemporalityValue,
} from '../otlp/encode/metrics.js';
import { varintSize } from '../otlp/wire.js';
import { warnOnce } from '../internal/warn.js';

/** Limits on one request body. */
export interface RequestLimits {
  /** Most data points in one body; default unlimited (the transport's own limit applies). */
  readonly maxPointsPerRequest?: number;
  /** Most bytes in one body; default unlimited. A single point larger than this is dropped with a warning. */
  readonly maxRequestBytes?: number;
}

const PREFIX = 5; // the widest length prefix of a message under 4 GiB

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Bytes of a length-delimited field with a one-byte tag and a body of `len` bytes. */
function fieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

function stringFieldSize(s: string): number {
  return s === '' ? 0 : fieldSize(utf8Length(s));
}

/** Builds the request bodies of one collection. */
export class RequestBuilder {
  readonly w: BinaryWriter;
  readonly bodies: Uint8Array[] = [];
  readonly #maxPoints: number;
  readonly #maxBytes: number;
  readonly #resource: Uint8Array | undefined;
  readonly #resourceSchemaUrl: string;
  readonly #resourceOpenCost: number;
  readonly #resourceCloseCost: number;

  #scope: Uint8Array | undefined = undefined;
  #scopeSchemaUrl = '';
  #scopeOpenCost = 0;
  #scopeCloseCost = 0;

  #name = '';
  #description = '';
  #unit = '';
  #data: MetricDataKind = 'sum';
  #temporality: TemporalityValue = 0;
  #monotonic = false;
  #metricOpenCost = 0;
  #metricCloseCost = 0;

  #resourceOpen = false;
  #scopeOpen = false;
  #metricOpen = false;
  #used = 0;
  #points = 0;
  /** Points dropped because one alone passes `maxRequestBytes`. */
  dropped = 0;
  /** Size of the largest body written. */
  largest = 0;

  /**
   * @param w the writer to fill; the provider passes the same one to every collection
   *   so that its buffer, grown once to the largest body, is not regrown each time.
   */
  constructor(resource: Uint8Array | undefined, resourceSchemaUrl: string, limits: RequestLimits = {}, w: BinaryWriter = new BinaryWriter()) {
    this.w = w;
    this.#maxPoints = limits.maxPointsPerRequest ?? Infinity;
    this.#maxBytes = limits.maxRequestBytes ?? Infinity;
    this.#resource = resource;
    this.#resourceSchemaUrl = resourceSchemaUrl;
    this.#resourceOpenCost = 1 + PREFIX + (resource === undefined ? 0 : fieldSize(resource.length));
    this.#resourceCloseCost = stringFieldSize(resourceSchemaUrl);
  }

  /** Sets the scope of the metrics that follow (opened with their first point). */
  scope(scope: Uint8Array | undefined, schemaUrl: string): void {
    this.#endScope();
    this.#scope = scope;
    this.#scopeSchemaUrl = schemaUrl;
    this.#scopeOpenCost = 1 + PREFIX + (scope === undefined ? 0 : fieldSize(scope.length));
    this.#scopeCloseCost = stringFieldSize(schemaUrl);
  }

  /** Sets the metric of the points that follow (opened with its first point). */
  metric(name: string, description: string, unit: string, data: MetricDataKind, temporality: TemporalityValue, monotonic: boolean): void {
    this.#endMetric();
    this.#name = name;
    this.#description = description;
    this.#unit = unit;
    this.#data = data;
    this.#temporality = temporality;
    this.#monotonic = monotonic;
    this.#metricOpenCost = 1 + PREFIX + stringFieldSize(name) + stringFieldSize(description) + stringFieldSize(unit) + 1 + PREFIX;
    this.#metricCloseCost = (temporality !== 0 ? 2 : 0) + (monotonic ? 2 : 0);
  }

  #openCost(): number {
    return (
      (this.#resourceOpen ? 0 : this.#resourceOpenCost) + (this.#scopeOpen ? 0 : this.#scopeOpenCost) + (this.#metricOpen ? 0 : this.#metricOpenCost)
    );
  }

  #closeCost(): number {
    return this.#metricCloseCost + this.#scopeCloseCost + this.#resourceCloseCost;
  }

  /**
   * Makes room for a point of `size` bytes (tag and length included) and opens the
   * envelopes it needs; the caller then writes it to `w`. Returns false when the point
   * cannot fit in any body (it is dropped, and counted in `dropped`).
   */
  reserve(size: number): boolean {
    let need = size + this.#openCost();
    if (this.#points > 0 && (this.#points >= this.#maxPoints || this.#used + need + this.#closeCost() > this.#maxBytes)) {
      this.#flush();
      need = size + this.#openCost();
    }
    if (this.#used + need + this.#closeCost() > this.#maxBytes) {
      this.dropped++;
      warnOnce(
        `point-too-large:${this.#name}`,
        `a data point of metric "${this.#name}" (${size} bytes) does not fit in maxRequestBytes=${this.#maxBytes}; it is dropped`,
      );
      return false;
    }
    const w = this.w;
    if (!this.#resourceOpen) {
      beginResourceMetrics(w, this.#resource);
      this.#resourceOpen = true;
    }
    if (!this.#scopeOpen) {
      beginScopeMetrics(w, this.#scope);
      this.#scopeOpen = true;
    }
    if (!this.#metricOpen) {
      beginMetric(w, this.#name, this.#description, this.#unit, this.#data);
      this.#metricOpen = true;
    }
    this.#used += need;
    this.#points++;
    return true;
  }

  #endMetric(): void {
    if (!this.#metricOpen) return;
    endMetric(this.w, this.#temporality, this.#monotonic);
    this.#metricOpen = false;
    this.#used += this.#metricCloseCost;
  }

  #endScope(): void {
    this.#endMetric();
    if (!this.#scopeOpen) return;
    endScopeMetrics(this.w, this.#scopeSchemaUrl);
    this.#scopeOpen = false;
    this.#used += this.#scopeCloseCost;
  }

  #flush(): void {
    this.#endScope();
    if (this.#resourceOpen) {
      endResourceMetrics(this.w, this.#resourceSchemaUrl);
      this.#resourceOpen = false;
    }
    if (this.#points > 0) {
      const body = this.w.finish();
      if (body.length > this.largest) this.largest = body.length;
      this.bodies.push(body);
    }
    this.#used = 0;
    this.#points = 0;
  }

  /** Closes everything and returns the bodies (none when no point was written). */
  finish(): Uint8Array[] {
    this.#flush();
    return this.bodies;
  }
}
