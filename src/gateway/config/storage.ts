/**
 * The `storage` section (docs/gateway.md, Durable storage) and `--storage DIR`: where the
 * durable queue lives and its bounds. Absent: queues are in memory and nothing touches the disk.
 * ```yaml
 * storage: { directory: /var/lib/otlp-fanout, maxBytes: 1GiB, fsync: interval }
 * ```
 */
import { resolve } from 'node:path';
import { DurableLogOptionError, validateDurableLogOptions } from '../../export/durable/options.js';
import type { ResolvedDurableLogOptions } from '../../export/durable/options.js';
import { at, GatewayConfigError, problemAt } from './config-error.js';
import { byteSize, mapping, millis, string } from './values.js';

/** The durable log's options, the directory resolved against the config file's directory. */
export type StorageConfig = ResolvedDurableLogOptions;

/**
 * The `storage` mapping at `p`, with `--storage DIR` (`flag`) over its directory; null when
 * neither is given. A relative directory is taken from `baseDir` (the config file's), or the
 * current directory for the flag.
 */
export function storageConfig(value: unknown, flag: string | undefined, p: string, baseDir: string): StorageConfig | null {
  if ((value === undefined || value === null) && flag === undefined) return null;
  const doc = mapping(value ?? {}, p, ['directory', 'maxBytes', 'segmentBytes', 'fsync', 'fsyncInterval']);
  let directory: string;
  if (flag !== undefined) {
    if (flag === '') throw new GatewayConfigError('--storage', 'expected a directory');
    directory = resolve(flag);
  } else {
    if (doc['directory'] === undefined) throw new GatewayConfigError(at(p, 'directory'), 'required: the directory of the durable queue');
    directory = resolve(baseDir, string(doc['directory'], at(p, 'directory'), { nonEmpty: true }));
  }
  const maxBytes = doc['maxBytes'] === undefined ? undefined : byteSize(doc['maxBytes'], at(p, 'maxBytes'), 1, Number.MAX_SAFE_INTEGER);
  const segmentBytes =
    doc['segmentBytes'] === undefined ? undefined : byteSize(doc['segmentBytes'], at(p, 'segmentBytes'), 1, Number.MAX_SAFE_INTEGER);
  const fsyncIntervalMillis = doc['fsyncInterval'] === undefined ? undefined : millis(doc['fsyncInterval'], at(p, 'fsyncInterval'), 1, 3_600_000);
  try {
    // The log's own rules (ranges, what depends on what), reported at this section's keys.
    return validateDurableLogOptions(
      {
        directory,
        ...(maxBytes === undefined ? {} : { maxBytes }),
        ...(segmentBytes === undefined ? {} : { segmentBytes }),
        ...(doc['fsync'] === undefined ? {} : { fsync: doc['fsync'] as never }),
        ...(fsyncIntervalMillis === undefined ? {} : { fsyncIntervalMillis }),
      },
      '',
    );
  } catch (e) {
    if (!(e instanceof DurableLogOptionError)) throw e;
    const key = e.field === 'fsyncIntervalMillis' ? 'fsyncInterval' : e.field;
    throw problemAt(at(p, key), e);
  }
}
