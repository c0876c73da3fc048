/**
 * Small state files replaced whole: a reader sees the old content or the new one, never a mix,
 * even across a crash or a power cut.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes `data` to `file` atomically: a temporary file in the same directory (rename is atomic only
 * within one file system), `fsync`ed, renamed over `file`, then the directory `fsync`ed so the rename
 * itself survives a power cut. Creates the directory when missing. Throws the platform error; the
 * temporary file is removed on failure.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) and file systems refuse fsync on a directory: the rename is done,
    // only its durability across a power cut is weaker there.
  } finally {
    await handle?.close();
  }
}
