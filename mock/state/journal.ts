// The append-only journal behind `--data DIR`: `DIR/journal.ndjson`, one line per event,
// `<checksum> <json>\n` (the checksum: 16 hex characters of the JSON's SHA-256). The few
// secrets the sandbox must read back (SEALED_FIELDS in events.ts) are stored sealed with the
// data key (mock/security/data-key.ts); everything else secret is only ever a hash.
//
// Writing. A commit is acknowledged only after the complete batch holding it is written (a
// short write is continued, never taken for a whole one) and synced (fdatasync); concurrent
// commits share one write and one sync (group commit). When a write or sync fails (ENOSPC,
// EIO, …) the bytes written past the last good record are cut off again, the projections
// are rebuilt from the journal as it is on disk, and every commit of the failed batch — and
// every one queued after it, decided on top of it — fails with StorageUnavailableError (a
// `503`); commits are then refused for `retryAfterMs` before the disk is tried again. So a
// failed request changes neither memory nor journal, and the next write after space returns
// follows the last good record. A reset replaces the whole journal in one step: the new
// records go to a new file, synced, renamed over the journal; if any of that fails, the
// journal is as it was and the reset fails like any other write.
//
// Starting. Every record is verified (checksum, JSON, sealed values) and checked against the
// state built from the records before it (checkEvent in projections.ts). A torn final record
// (no line end: a crash mid-write) is cut off with a warning and kept beside the journal
// (`journal.ndjson.tail-<time>`). Anything else — a bad checksum, an unparsable line, a record
// that does not follow from the ones before it, anywhere — refuses the start with one line
// naming it, unless `repair` is given: then every record that verifies and follows is kept,
// the others are moved to `journal.ndjson.repair-<time>`, and one line reports the counts.
import { createHash } from 'node:crypto';
import { chmod, mkdir, open as openFile, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDataKey, DATA_KEY_FILE, DataKeyError, readDataKey, SealError, type DataKey } from '../security/data-key.ts';
import { SEALED_FIELDS, type SandboxEvent } from './events.ts';
import { applyEvent, checkEvent, createProjections, type Projections } from './projections.ts';
import { describeFailure, nodeFiles, StorageUnavailableError, writeFully, type JournalFile, type JournalFiles } from './storage.ts';
import type { Journal } from './store.ts';

export const JOURNAL_FILE = 'journal.ndjson';

const checksum = (json: string) => createHash('sha256').update(json, 'utf8').digest('hex').slice(0, 16);
const sealContext = (type: string, field: string) => `pacspace-journal/${type}/${field}`;
const sealedFieldsOf = (type: SandboxEvent['type']): readonly string[] | undefined => (SEALED_FIELDS as Record<string, readonly string[]>)[type];

/** One journal line for `event`; its secret fields sealed with `key` (required if it has any). */
export function encodeRecord(event: SandboxEvent, key?: DataKey): string {
  const fields = sealedFieldsOf(event.type);
  let stored: object = event;
  if (fields) {
    if (!key) throw new Error(`encodeRecord: ${event.type} carries secrets and no data key was given`);
    const copy: Record<string, unknown> = { ...event };
    for (const field of fields) copy[field] = { $sealed: key.seal(String(copy[field]), sealContext(event.type, field)) };
    stored = copy;
  }
  const json = JSON.stringify(stored);
  return `${checksum(json)} ${json}\n`;
}

/** A complete line of the journal (with its line end), as read. */
export type JournalRecord = {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  bytes: Buffer;
  event?: SandboxEvent;
  /** Why it cannot be used (the event is absent then). */
  problem?: string;
  /** It holds a secret an earlier version stored in plain text (sealed when the journal is rewritten). */
  plain?: boolean;
};

export type JournalScan = {
  records: JournalRecord[];
  /** A final line without a line end. */
  torn?: { line: number; offset: number; bytes: Buffer };
};

/**
 * Splits the journal into lines and verifies each: checksum, JSON, sealed values. A sealed
 * value of another key, or one met without a key, is not damage: it throws a DataKeyError.
 */
export function scanJournal(buffer: Buffer, key: DataKey | undefined, where = JOURNAL_FILE): JournalScan {
  const records: JournalRecord[] = [];
  let offset = 0;
  let line = 0;
  while (offset < buffer.length) {
    line++;
    const end = buffer.indexOf(0x0a, offset);
    if (end < 0) return { records, torn: { line, offset, bytes: buffer.subarray(offset) } };
    const bytes = buffer.subarray(offset, end + 1);
    records.push({ line, offset, bytes, ...decodeLine(buffer.toString('utf8', offset, end), key, where) });
    offset = end + 1;
  }
  return { records };
}

function decodeLine(text: string, key: DataKey | undefined, where: string): Pick<JournalRecord, 'event' | 'problem' | 'plain'> {
  if (text.length < 18 || text[16] !== ' ' || !/^[0-9a-f]{16}$/.test(text.slice(0, 16))) return { problem: 'it is not a journal record' };
  const json = text.slice(17);
  if (checksum(json) !== text.slice(0, 16)) return { problem: 'its checksum does not match' };
  let event: SandboxEvent & Record<string, unknown>;
  try {
    event = JSON.parse(json);
  } catch {
    return { problem: 'its JSON does not parse' };
  }
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || typeof event.at !== 'number') {
    return { problem: 'it is not an event' };
  }
  let plain = false;
  for (const field of sealedFieldsOf(event.type) ?? []) {
    const value = event[field] as unknown;
    if (typeof value === 'string') {
      plain = true; // written by a version that did not seal
      continue;
    }
    const sealed = (value as { $sealed?: unknown } | null)?.$sealed;
    if (typeof sealed !== 'string') return { problem: `its ${field} is neither sealed nor a string` };
    if (!key) throw new DataKeyError(`${where} holds sealed secrets but there is no data key to open them`);
    try {
      event[field] = key.open(sealed, sealContext(event.type, field));
    } catch (error) {
      if (error instanceof SealError && error.kind === 'other-key') {
        throw new DataKeyError(`the secrets in ${where} were sealed with data key ${error.keyId}, but ${key.file} holds data key ${key.id}: start with the key file they were sealed with`);
      }
      return { problem: `its sealed ${field} does not open` };
    }
  }
  return plain ? { event, plain } : { event };
}

/** The state a journal's records build; `count` events applied. */
export type Replayed = { state: Projections; count: number };

/**
 * Applies every record that verifies and follows from the ones applied before it
 * (checkEvent); the others are returned as rejected, with why.
 */
export function replayRecords(records: JournalRecord[]): Replayed & { kept: JournalRecord[]; rejected: JournalRecord[] } {
  const state = createProjections();
  const kept: JournalRecord[] = [];
  const rejected: JournalRecord[] = [];
  for (const record of records) {
    if (!record.event) {
      rejected.push(record);
      continue;
    }
    const why = checkEvent(state, record.event);
    if (why) {
      rejected.push({ ...record, problem: `it does not follow from the records before it (${why})` });
      continue;
    }
    applyEvent(state, record.event);
    kept.push(record);
  }
  return { state, count: kept.length, kept, rejected };
}

/** The journal is damaged past what a start may fix by itself: one line, naming the first bad record. */
export class JournalCorruptError extends Error {
  override readonly name = 'JournalCorruptError';
}

export type OpenJournalOptions = {
  /** One line to the operator (start-up fixes, failed writes). */
  warn?: (message: string) => void;
  /** Keep every record that verifies and follows, move the others aside (`--repair`). */
  repair?: boolean;
  /** The data key file; default `DIR/data.key`, made (mode 0600) when missing and nothing is sealed yet. */
  dataKeyFile?: string;
  /** The file layer (tests put a failing one in); node:fs by default. */
  files?: JournalFiles;
  /** After a failed write, commits are refused (503, Retry-After) this long before the disk is tried again. */
  retryAfterMs?: number;
};

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
const where = (r: { line: number; offset: number }) => `line ${r.line} (byte offset ${r.offset})`;

export async function openJournal(dir: string, options: OpenJournalOptions = {}): Promise<{ replayed: Replayed; journal: Journal }> {
  const warn = options.warn ?? (() => {});
  const files = options.files ?? nodeFiles;
  const retryAfterMs = options.retryAfterMs ?? 1_000;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, JOURNAL_FILE);
  const existing = await readFile(path).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  const text = existing ?? Buffer.alloc(0);

  const keyFile = options.dataKeyFile ?? join(dir, DATA_KEY_FILE);
  let key = await readDataKey(keyFile, warn);
  if (!key && text.includes('{"$sealed":')) {
    throw new DataKeyError(`${path} holds sealed secrets but their data key ${keyFile} is missing: restore it${options.dataKeyFile ? '' : ' or pass --data-key-file'}`);
  }

  const scan = scanJournal(text, key, path);
  const { state, count, kept, rejected } = replayRecords(scan.records);
  let size = text.length;
  if (rejected.length && !options.repair) {
    const first = rejected[0]!;
    const more = rejected.length > 1 ? ` (${rejected.length - 1} more records do not verify or depend on one that does not)` : '';
    throw new JournalCorruptError(
      `journal ${path}: ${where(first)} is damaged: ${first.problem}${more}; nothing was changed. Start with --repair to keep every record that verifies and move the others aside.`,
    );
  }
  // The first start (or a journal from before sealing): a new key.
  key ??= await createDataKey(keyFile);
  const plain = kept.filter((r) => r.plain).length;
  // The bytes that go are set aside first: a torn final record (a crash mid-write) in a
  // `.tail-` file, as it was; with a repair, the rejected records (and any torn one) in a `.repair-` file.
  let aside: string | undefined;
  if (rejected.length) {
    aside = `${path}.repair-${stamp()}`;
    await writeFile(files, aside, [...rejected.map((r) => r.bytes), ...(scan.torn ? [scan.torn.bytes] : [])]);
  } else if (scan.torn) {
    aside = `${path}.tail-${stamp()}`;
    await writeFile(files, aside, [scan.torn.bytes]);
  }
  if (rejected.length || plain) {
    // The journal is replaced by the records kept, every secret sealed.
    size = await replaceFile(files, path, kept.map((r) => (r.plain ? Buffer.from(encodeRecord(r.event!, key), 'utf8') : r.bytes)));
  } else if (scan.torn) {
    const file = await files.open(path, { create: false });
    try {
      await file.truncate(scan.torn.offset);
      await file.sync();
    } finally {
      await file.close();
    }
    size = scan.torn.offset;
  }
  if (rejected.length) {
    const first = rejected[0]!;
    const torn = scan.torn ? ' and a torn final record' : '';
    warn(`journal ${path}: repaired: kept ${kept.length} records, moved ${rejected.length} aside${torn} to ${aside} (the first: ${where(first)}, ${first.problem})`);
  } else if (scan.torn) {
    warn(`journal: record ${scan.torn.line} (${where(scan.torn)}) is torn (no line end); replayed the ${count} records before it and moved the rest to ${aside}`);
  }
  if (plain) warn(`journal ${path}: sealed the secrets of ${plain} records an earlier version stored in plain text`);
  if (existing) await chmod(path, 0o600).catch(() => {});
  // A reset that stopped before its rename (a crash) never took effect: the journal above is the
  // state; its unfinished replacement goes.
  const unfinished = `${path}.reset`;
  if (await unlink(unfinished).then(() => true, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)))) {
    warn(`journal ${path}: removed ${unfinished}, a reset that was stopped before it took effect`);
  }
  const file = await files.open(path, { create: true, mode: 0o600 });
  if (!existing) await syncDirectory(dir);
  return { replayed: { state, count }, journal: createJournal({ path, file, files, size, key, warn, retryAfterMs }) };
}

/** Writes `chunks` to a new file (mode 0600), synced. */
async function writeFile(files: JournalFiles, path: string, chunks: Buffer[]): Promise<number> {
  const file = await files.open(path, { create: true, truncate: true, mode: 0o600 });
  let position = 0;
  try {
    // In blocks of about 1 MiB: a journal can be large, a write per record slow.
    let block: Buffer[] = [];
    let blockSize = 0;
    const flush = async () => {
      if (!blockSize) return;
      await writeFully(file, Buffer.concat(block, blockSize), position);
      position += blockSize;
      block = [];
      blockSize = 0;
    };
    for (const chunk of chunks) {
      block.push(chunk);
      blockSize += chunk.length;
      if (blockSize >= 1 << 20) await flush();
    }
    await flush();
    await file.sync();
  } finally {
    await file.close();
  }
  return position;
}

/** Replaces `path` with `chunks` atomically (a new file, synced, renamed over it). */
async function replaceFile(files: JournalFiles, path: string, chunks: Buffer[]): Promise<number> {
  const next = `${path}.rewrite`;
  const size = await writeFile(files, next, chunks);
  await rename(next, path);
  await syncDirectory(dirname(path));
  return size;
}

/** Makes a new or renamed directory entry durable (where the platform allows it). */
async function syncDirectory(dir: string) {
  const handle = await openFile(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => {});
  await handle.close();
}

type Work = { kind: 'append' | 'replace'; data: Buffer };
type Operation = Work & { done: (error?: StorageUnavailableError) => void };

function createJournal(init: {
  path: string;
  file: JournalFile;
  files: JournalFiles;
  size: number;
  key: DataKey;
  warn: (message: string) => void;
  retryAfterMs: number;
}): Journal {
  const { path, files, key, warn, retryAfterMs } = init;
  /** The journal's open file (a reset puts the new one in its place). */
  let file = init.file;
  /** Bytes of complete, synced records: where the next write goes. */
  let size = init.size;
  /** Bytes past `size` may be on disk (a write failed or is under way): cut before writing. */
  let dirty = false;
  let queue: Operation[] = [];
  let draining: Promise<void> | undefined;
  let failure: StorageUnavailableError | undefined;
  let refuseUntil = 0;
  let recovering = false;
  /** Memory still holds what a failed write should have undone (the journal could not be read back). */
  let stale = false;
  let rollback: ((replayed: Replayed) => void) | undefined;

  async function cut() {
    await file.truncate(size);
    await file.sync();
    dirty = false;
  }

  /** Cuts what a failed write left, then rebuilds memory from the journal as it is on disk. */
  async function recover() {
    recovering = true;
    try {
      if (dirty) await cut().catch(() => {}); // retried before the next write
      try {
        const replayed = replayRecords(scanJournal((await readFile(path)).subarray(0, size), key, path).records);
        stale = false;
        rollback?.({ state: replayed.state, count: replayed.count });
      } catch (error) {
        stale = true;
        warn(`journal ${path}: cannot read it back to undo a failed write (${describeFailure(error)}); writes are refused until it can be`);
      }
    } finally {
      recovering = false;
    }
  }

  async function fail(error: unknown, operations: Operation[]) {
    dirty = true;
    failure = new StorageUnavailableError(describeFailure(error), retryAfterMs);
    refuseUntil = performance.now() + retryAfterMs;
    warn(`journal ${path}: a write failed (${failure.reason}); undone, and writes are answered 503 storage_unavailable for ${retryAfterMs} ms`);
    await recover();
    // Everything queued meanwhile was decided on top of what failed: it is undone and fails too.
    for (const operation of [...operations, ...queue.splice(0)]) operation.done(failure);
  }

  /**
   * Replaces the journal by `data` in one step: a new file, written whole and synced, renamed
   * over the journal. Until the rename nothing of the journal changed; on failure the new file
   * is removed again and the error thrown.
   */
  async function replace(data: Buffer) {
    const next = `${path}.reset`;
    const fresh = await files.open(next, { create: true, truncate: true, mode: 0o600 });
    try {
      await writeFully(fresh, data, 0);
      await fresh.sync();
      await rename(next, path);
    } catch (error) {
      await fresh.close().catch(() => {});
      await unlink(next).catch(() => {});
      throw error;
    }
    await syncDirectory(dirname(path));
    const old = file;
    file = fresh;
    size = data.length;
    dirty = false;
    await old.close().catch(() => {});
  }

  async function drain() {
    while (queue.length) {
      if (queue[0]!.kind === 'replace') {
        const operation = queue.shift()!;
        try {
          await replace(operation.data);
          operation.done();
        } catch (error) {
          await fail(error, [operation]);
        }
        continue;
      }
      let n = 0;
      while (n < queue.length && queue[n]!.kind === 'append') n++;
      const batch = queue.splice(0, n);
      const data = batch.length === 1 ? batch[0]!.data : Buffer.concat(batch.map((b) => b.data));
      try {
        if (dirty) await cut();
        dirty = true;
        await writeFully(file, data, size);
        await file.sync();
        size += data.length;
        dirty = false;
        for (const b of batch) b.done();
      } catch (error) {
        await fail(error, batch);
      }
    }
    draining = undefined;
  }

  function enqueue(work: Work): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      queue.push({ ...work, done: (error) => (error ? reject(error) : resolve()) });
      draining ??= drain();
    });
  }

  return {
    refusal() {
      const now = performance.now();
      if (!recovering && !stale && now >= refuseUntil) return undefined;
      // Read back again what a failed write should have undone, once the wait is over.
      if (stale && !recovering && now >= refuseUntil) void recover();
      return new StorageUnavailableError(failure?.reason ?? 'the journal is recovering', Math.max(refuseUntil - now, retryAfterMs));
    },
    append(events) {
      // Encoded before anything is applied: an event that cannot be written is never applied either.
      return enqueue({ kind: 'append', data: Buffer.from(events.map((e) => encodeRecord(e, key)).join(''), 'utf8') });
    },
    replace(events) {
      return enqueue({ kind: 'replace', data: Buffer.from(events.map((e) => encodeRecord(e, key)).join(''), 'utf8') });
    },
    onRollback(listener) {
      rollback = listener;
    },
    async close() {
      await draining;
      await file.close();
    },
  };
}
