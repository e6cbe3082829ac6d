// The file layer under the journal, and how its failures reach a request. Every byte the
// journal writes goes through `JournalFiles` (node:fs by default), so a test can put a layer
// in between that fails the way a full or broken disk does (ENOSPC, EIO, a short write) at a
// chosen point. This is the storage layer's seam for tests, not a fault switch: nothing in
// the domain knows about it.
import { constants } from 'node:fs';
import { open as openFile } from 'node:fs/promises';

export type JournalFile = {
  /** Writes `data` at byte `position`; resolves with how many bytes were written (maybe fewer). */
  write(data: Uint8Array, position: number): Promise<number>;
  /** fdatasync: the bytes written so far are on the disk. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
};

export type JournalFiles = {
  /** `create`: make the file when missing (mode applies then); `truncate`: empty it on open. */
  open(path: string, options: { create: boolean; truncate?: boolean; mode?: number }): Promise<JournalFile>;
};

export const nodeFiles: JournalFiles = {
  async open(path, { create, truncate = false, mode = 0o600 }) {
    // Never O_APPEND: Linux's pwrite ignores the position under it, and every write here is positional.
    const flags = constants.O_RDWR | (create ? constants.O_CREAT : 0) | (truncate ? constants.O_TRUNC : 0);
    const handle = await openFile(path, flags, mode);
    return {
      write: async (data, position) => (await handle.write(data, 0, data.length, position)).bytesWritten,
      sync: () => handle.datasync(),
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
    };
  },
};

/**
 * Writes all of `data` at `position`, however many calls it takes; a write that makes no
 * progress is an error (a short write is never taken for a complete one).
 */
export async function writeFully(file: JournalFile, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const n = await file.write(data.subarray(done), position + done);
    if (!(n > 0)) throw Object.assign(new Error(`short write: ${done} of ${data.length} bytes written`), { code: 'ESHORTWRITE' });
    done += n;
  }
}

/**
 * A change could not be made durable (disk full, I/O error): the request is answered `503`
 * `storage_unavailable` with `Retry-After`, and memory and journal are as they were before it.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(
    /** What failed, for the operator (an errno code and its text); never request data. */
    readonly reason: string,
    /** When a retry may succeed. */
    readonly retryAfterMs: number,
  ) {
    super(`storage unavailable: ${reason}`);
  }
}

/** A short account of a failed file operation: `ENOSPC (no space left on device)`. */
export function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  const known: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EIO: 'input/output error',
    EROFS: 'read-only file system',
    EFBIG: 'file too large',
    ESHORTWRITE: 'the disk took only part of a write',
  };
  if (code && known[code]) return `${code} (${known[code]})`;
  return code ?? (error as Error)?.message ?? 'unknown error';
}
