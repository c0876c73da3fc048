/**
 * The `key1=value1,key2=value2` form of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS:
 * W3C Baggage list members without properties, whitespace around keys and values trimmed, keys
 * and values percent-decoded (spec: resource SDK and OTLP exporter, "Specifying headers via
 * environment variables"). `+` stays a plus, as in baggage.
 */

/** A parsed list: the good entries in order, and why each bad one was skipped. */
export interface KeyValueList {
  readonly entries: ReadonlyArray<readonly [key: string, value: string]>;
  /** One per skipped entry: its 1-based position and the reason (never the value: it may be a secret). */
  readonly problems: readonly string[];
}

/**
 * Parses `text`. An entry without `=`, with an empty key or with a broken percent escape is
 * skipped and reported; the rest are kept (one typo must not cost every header). Empty entries
 * (`a=1,,b=2`, a trailing comma) are ignored silently. The first `=` splits key from value, so
 * unencoded base64 padding in a value survives.
 */
export function parseKeyValueList(text: string): KeyValueList {
  const entries: Array<readonly [string, string]> = [];
  const problems: string[] = [];
  const parts = text.split(',');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      problems.push(`entry ${i + 1} has no "="`);
      continue;
    }
    const key = decode(part.slice(0, eq).trim());
    const value = decode(part.slice(eq + 1).trim());
    if (key === undefined || value === undefined) {
      problems.push(`entry ${i + 1} has an invalid percent-encoding`);
      continue;
    }
    if (key === '') {
      problems.push(`entry ${i + 1} has an empty key`);
      continue;
    }
    entries.push([key, value]);
  }
  return { entries, problems };
}

function decode(s: string): string | undefined {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
