// The append-only journal behind `--data DIR`: one line per event, `<checksum> <json>\n`.
// A write is acknowledged only after the batch holding it is on disk (datasync); concurrent
// commits share one write and one sync (group commit). On start the journal is replayed; a
// torn or corrupt tail (a crash mid-write) is cut off with a warning, never a crash.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxEvent } from './events.ts';
import type { Journal } from './store.ts';

const checksum = (json: string) => createHash('sha256').update(json, 'utf8').digest('hex').slice(0, 16);
export const encodeRecord = (event: SandboxEvent) => {
  const json = JSON.stringify(event);
  return `${checksum(json)} ${json}\n`;
};

export type ReplayResult = { events: SandboxEvent[]; validBytes: number; problem?: string };

/** Reads records up to the first torn or corrupt one. */
export function decodeJournal(text: string): ReplayResult {
  const events: SandboxEvent[] = [];
  let offset = 0;
  let record = 0;
  while (offset < text.length) {
    const end = text.indexOf('\n', offset);
    record++;
    if (end < 0) return { events, validBytes: Buffer.byteLength(text.slice(0, offset)), problem: `record ${record} is torn (no line end)` };
    const line = text.slice(offset, end);
    const space = line.indexOf(' ');
    const json = line.slice(space + 1);
    let event: SandboxEvent | undefined;
    if (space === 16 && checksum(json) === line.slice(0, 16)) {
      try {
        event = JSON.parse(json) as SandboxEvent;
      } catch {
        event = undefined;
      }
    }
    if (!event) return { events, validBytes: Buffer.byteLength(text.slice(0, offset)), problem: `record ${record} is corrupt` };
    events.push(event);
    offset = end + 1;
  }
  return { events, validBytes: Buffer.byteLength(text) };
}

export async function openJournal(dir: string, warn: (message: string) => void): Promise<{ history: SandboxEvent[]; journal: Journal }> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'journal.ndjson');
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
  const replay = decodeJournal(text);
  if (replay.problem) {
    // Keep the unreadable tail for inspection, then continue from the last good record.
    const tail = `${path}.tail-${Date.now()}`;
    const handle = await open(tail, 'w');
    await handle.write(Buffer.from(text, 'utf8').subarray(replay.validBytes));
    await handle.close();
    const good = await open(path, 'r+');
    await good.truncate(replay.validBytes);
    await good.sync();
    await good.close();
    warn(`journal: ${replay.problem}; replayed the ${replay.events.length} records before it and moved the rest to ${tail}`);
  }
  let handle: FileHandle = await open(path, 'a');
  let queue: Array<{ data: string; done: (error?: unknown) => void }> = [];
  let writing: Promise<void> | undefined;

  async function drain() {
    while (queue.length) {
      const batch = queue;
      queue = [];
      try {
        await handle.write(batch.map((b) => b.data).join(''));
        await handle.datasync();
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.done(error);
      }
    }
    writing = undefined;
  }

  return {
    history: replay.events,
    journal: {
      append(events) {
        return new Promise<void>((resolve, reject) => {
          queue.push({ data: events.map(encodeRecord).join(''), done: (error) => (error ? reject(error) : resolve()) });
          writing ??= drain();
        });
      },
      async truncate() {
        await writing;
        await handle.truncate(0);
        await handle.datasync();
      },
      async close() {
        await writing;
        await handle.close();
      },
    },
  };
}
