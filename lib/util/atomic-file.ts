/**
 * Atomic file output: data is written to a temporary file next to the target
 * (`<path>.partial`), flushed to disk, and only then renamed onto the target,
 * so a reader (or a resumed run) never sees a half-written file under the final
 * name. The directory is fsynced after the rename so the new name itself is
 * durable.
 *
 * File-system errors are rethrown as {@link FileOutputError}s whose message
 * names the path and says what went wrong in words ("no space left on
 * device"), and the temporary file is removed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';

/** Suffix of the temporary file an atomic writer fills before renaming it. */
export const PARTIAL_SUFFIX = '.partial';

/** Path of the temporary file used for `finalPath`: `<finalPath>.partial`, same directory. */
export function partialPathFor(finalPath: string): string {
  return finalPath + PARTIAL_SUFFIX;
}

const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory (does the output directory exist?)',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'file name too long',
  EXDEV: 'cannot rename across file systems',
  EBADF: 'bad file descriptor',
};

/** An I/O error while writing an output file; `path` is the file meant, `code` the errno code. */
export class FileOutputError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(message: string, filePath: string, code: string | undefined, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FileOutputError';
    this.path = filePath;
    this.code = code;
  }
}

/**
 * Wraps a Node file-system error in a {@link FileOutputError} whose message reads
 * `cannot <action> <path>: <reason> (<CODE>)`. An error that already is a
 * FileOutputError is returned unchanged.
 */
export function fileOutputError(action: string, filePath: string, err: unknown): Error {
  if (err instanceof FileOutputError) return err;
  const code =
    typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
  const words = code !== undefined ? ERRNO_WORDS[code] : undefined;
  let reason: string;
  if (words !== undefined) reason = `${words} (${code})`;
  else if (err instanceof Error) reason = err.message;
  else reason = String(err);
  return new FileOutputError(`cannot ${action} ${filePath}: ${reason}`, filePath, code, err);
}

/** Removes a file, ignoring "does not exist" (and any other error: best effort cleanup). */
export async function removeQuietly(filePath: string): Promise<void> {
  try {
    await fsp.unlink(filePath);
  } catch {
    /* already gone, or cannot be removed: nothing more to do */
  }
}

/**
 * Fsyncs a directory so that a rename or creation inside it is durable.
 * Platforms or file systems that cannot fsync a directory (EISDIR, EINVAL,
 * EPERM, EBADF on some systems; Windows) are ignored silently.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, fsConstants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fileOutputError('sync directory', dir, err);
    /* EISDIR, EINVAL, EPERM, EBADF, ...: directory fsync unsupported here */
  } finally {
    if (fh !== undefined) await fh.close().catch(() => undefined);
  }
}

/**
 * Commits a finished temporary file: renames `tempPath` onto `finalPath`
 * (atomically replacing any existing file) and fsyncs the directory. The caller
 * must have fsynced and closed the temporary file. On failure the temporary
 * file is removed and a {@link FileOutputError} naming `finalPath` is thrown.
 */
export async function commitFile(tempPath: string, finalPath: string): Promise<void> {
  try {
    await fsp.rename(tempPath, finalPath);
  } catch (err) {
    await removeQuietly(tempPath);
    throw fileOutputError('write', finalPath, err);
  }
  await fsyncDirectory(path.dirname(path.resolve(finalPath)));
}

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File mode of a newly created file. Default 0o666 (before the umask). */
  mode?: number;
  /**
   * Give the temporary file a name of this writer's own (`<filePath>.<pid>-<random>.partial`)
   * instead of `<filePath>.partial`, for files that several processes may write at the same
   * moment (the runner's settings.json and results file, written by every shard of a job array).
   * Default false.
   */
  unique?: boolean;
}

/**
 * Writes `data` to `filePath` atomically: to `<filePath>.partial` first, fsynced,
 * then renamed over `filePath`, then the directory is fsynced. Strings are
 * written as UTF-8. Either the complete new content is at `filePath` afterwards,
 * or (on error) the old file, if any, is untouched and no `.partial` file is left.
 *
 * @throws FileOutputError naming `filePath` (e.g. ENOSPC, EACCES, ENOENT for a missing directory).
 */
export async function writeFileAtomic(
  filePath: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  if (typeof filePath !== 'string' || filePath.length === 0) {
    throw new TypeError(`writeFileAtomic: path must be a non-empty string, got ${String(filePath)}`);
  }
  const tmp = options.unique
    ? `${filePath}.${process.pid}-${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`
    : partialPathFor(filePath);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'w', options.mode ?? 0o666);
  } catch (err) {
    throw fileOutputError('create', filePath, err);
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.byteLength) {
      const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off);
      off += bytesWritten;
    }
    await fh.sync();
    const h = fh;
    fh = undefined;
    await h.close();
  } catch (err) {
    if (fh !== undefined) await fh.close().catch(() => undefined);
    await removeQuietly(tmp);
    throw fileOutputError('write', filePath, err);
  }
  await commitFile(tmp, filePath);
}
