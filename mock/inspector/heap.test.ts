// No secret survives in memory through the history, even below the JavaScript surface: a kept
// string cut from the text as received (the public part of a key, a cookie's attributes, the
// start of a large body) must not share that text's characters (V8 keeps a slice's whole parent
// alive). Exchanges carrying secrets are kept and dropped, then a heap snapshot is searched for
// each secret; the test holds them only reversed, and spells them again after the snapshot.
import { randomBytes } from 'node:crypto';
import { getHeapSnapshot, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import type { Exchange } from '../http/exchange.ts';
import { createInspector, KEEP_WITHIN_MS } from './history.ts';

setFlagsFromString('--expose-gc');
// A snapshot names a string by its first 1,024 characters unless told otherwise: the whole of a long body, here.
setFlagsFromString('--heap-snapshot-string-limit=4000000');
const gc = runInNewContext('gc') as () => void;

const reversed = (text: string) => [...text].reverse().join('');
/** A fresh secret as one flat string, made from random bytes (no literal holds it). */
const secret = (prefix: string) => [prefix, ...randomBytes(24).toString('hex').match(/.{2}/g)!].join('');

async function heapText(): Promise<string> {
  /x/.exec('x'); // the last match (RegExp.input) would otherwise hold whatever was matched last
  gc();
  gc();
  const chunks: string[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
  return chunks.join('');
}

describe('the history in memory', () => {
  it('holds no secret of a kept exchange, once the exchange itself is gone', async () => {
    const inspector = createInspector({ baseUrl: () => 'http://127.0.0.1:4011' });
    // Secrets are made in here and leave only reversed.
    const kept = ((): string[] => {
      const keySecret = secret('sk_test_');
      const access = secret('acc');
      const refresh = secret('ref');
      const emailToken = secret('tok');
      const password = secret('pw');
      const apiKey = ['pk_test_AbCdEfGh12345678.', keySecret].join('');
      const exchange: Exchange = {
        requestId: 'req_HeapHeapHeap0001',
        at: Date.now(),
        durationMs: 1,
        environment: 'live',
        surface: 'api',
        method: 'POST',
        url: ['/dashboard/auth/verify?token=', emailToken, '&next=%2Fhome'].join(''),
        operationId: 'verifyEmail',
        auth: { kind: 'apiKey', keyId: 'key_1', tenantId: 'ten_1', environment: 'live' },
        violations: [],
        request: {
          headers: { 'x-api-key': apiKey, cookie: ['pacspace_access=', access, '; theme=dark'].join(''), 'content-type': 'application/json' },
          // Larger than the inspector reads again: its start is kept, the password past the cut is not.
          body: ['{"reason":"', 'x'.repeat(70_000), '","password":"', password, '"}'].join(''),
        },
        response: { status: 200, headers: { 'set-cookie': [['pacspace_refresh=', refresh, '; Path=/dashboard/auth; HttpOnly'].join('')] }, body: '{"statusCode":200}' },
      };
      inspector.observe(exchange);
      expect(inspector.size()).toBe(1);
      return [keySecret, access, refresh, emailToken, password].map(reversed);
    })();
    expect(inspector.get('req_HeapHeapHeap0001')!.request.body!.truncated).toBe(true);
    const heap = await heapText();
    for (const backwards of kept) expect(heap.includes(reversed(backwards)), `${reversed(backwards).slice(0, 6)}… in the heap`).toBe(false);
    // The snapshot does hold what the history keeps (the test would otherwise prove nothing).
    expect(heap).toContain('pk_test_AbCdEfGh12345678.[redacted]');
  }, 60_000);
});

describe('an exchange the inspector cannot read', () => {
  it('holds none of its secrets once it is refused (what was shared before the failure is let go)', async () => {
    const notKept: string[] = [];
    const inspector = createInspector({ baseUrl: () => 'http://127.0.0.1:4011', onError: (m) => notKept.push(m) });
    const kept = ((): string[] => {
      const token = secret('tok');
      const password = secret('pw');
      inspector.observe({
        requestId: 'req_HeapHeapHeap0002',
        at: Date.now(),
        durationMs: 1,
        environment: 'live',
        surface: 'api',
        method: 'POST',
        url: ['/dashboard/auth/verify?token=', token].join(''),
        operationId: 'verifyEmail',
        violations: [],
        request: {
          // Read after the URL and the body were taken in.
          get headers(): Record<string, string> {
            throw new TypeError('unreadable');
          },
          body: ['{"password":"', password, '"}'].join(''),
        },
        response: { status: 200, headers: {} },
      });
      return [token, password].map(reversed);
    })();
    expect(notKept).toEqual(['request inspector: req_HeapHeapHeap0002 not kept (TypeError)']);
    expect(inspector.size()).toBe(0);
    const heap = await heapText();
    for (const backwards of kept) expect(heap.includes(reversed(backwards)), `${reversed(backwards).slice(0, 6)}… in the heap`).toBe(false);
  }, 60_000);
});

describe('a batch being kept', () => {
  it('lets go of each exchange as sent once it is kept, not once the whole batch is', async () => {
    const inspector = createInspector({ capacity: 200, baseUrl: () => 'http://127.0.0.1:4011' });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // Each exchange carries its own secret, which leaves here only reversed: once an exchange is
    // kept, nothing but the batch could hold its secret as sent.
    let sent: string[];
    try {
      sent = Array.from({ length: 200 }, (_, i) => {
        const keySecret = secret('sk_test_');
        inspector.observe({
          requestId: `req_HeapBatch${String(i).padStart(8, '0')}`,
          at: Date.now(),
          durationMs: 1,
          environment: 'test',
          surface: 'api',
          method: 'GET',
          url: '/api/v1/balance/derive/customer_001',
          violations: [],
          request: { headers: { 'x-api-key': ['pk_test_AbCdEfGh12345678.', keySecret].join('') } },
          response: { status: 200, headers: {} },
        });
        return reversed(keySecret);
      });
      vi.advanceTimersByTime(KEEP_WITHIN_MS);
    } finally {
      vi.useRealTimers();
    }
    // One slice kept (64), the rest still waiting their turn.
    await turn();
    const heap = await heapText();
    expect(sent.slice(0, 64).filter((backwards) => heap.includes(reversed(backwards)))).toEqual([]);
    // (The newest still wait their turn, held: the test can tell.)
    expect(heap.includes(reversed(sent[199]!))).toBe(true);
    expect(inspector.size()).toBe(200);
  }, 60_000);
});
