// The request inspector's memory: the last N exchanges (default 500, `--inspect-history N`,
// 0 keeps none), each redacted on the way in (./redact.ts) — the secret never reaches the
// history — with its copy-as-curl command made then, while the placeholders are known.
// Listed newest first, filtered by operation, status (exact or class) and API key.
import type { components } from '../../generated/sandbox-control.d.ts';
import type { Exchange, ExchangeObserver } from '../http/exchange.ts';
import { curlCommand } from './curl.ts';
import { createRedactor, type HeaderField, type KeptBody, type KeptMessage, type PackedMessage } from './redact.ts';
import { contractSecretRules, type SecretRules } from './secret-rules.ts';
import { isoOf } from '../state/clock.ts';
import { LastValues } from './last-values.ts';
import { createWaitingPacker, markRequestId, sameFieldList, sentValue, type FieldList, type WaitingExchange } from './waiting.ts';

type Summary = components['schemas']['InspectedRequestSummary'];
type Violation = components['schemas']['ValidationViolation'];

export const DEFAULT_INSPECT_HISTORY = 500;
/** The most `--inspect-history` accepts: 500 kept requests are a few MB at most (bodies are capped). */
export const MAX_INSPECT_HISTORY = 10_000;

/** One kept request: everything the control answers show, except its deliveries (read live from the state). */
export type KeptExchange = {
  summary: Omit<Summary, 'deliveries'>;
  violations: Violation[];
  request: KeptMessage;
  response: KeptMessage;
  curl: string;
};

export type InspectorFilter = {
  operationId?: string;
  /** `404`, or a class: `4xx`. */
  status?: string;
  keyId?: string;
};

/** The public part of the API key header as kept (already redacted: no secret), the last one remembered. */
let lastSent = '';
let lastPublicKey: string | undefined;
function publicKeyOf(sent: string): string | undefined {
  if (sent !== lastSent) {
    lastPublicKey = /^pk_(test|live)_[A-Za-z0-9]{1,128}/.exec(sent)?.[0];
    lastSent = sent;
  }
  return lastPublicKey;
}

const NO_VIOLATIONS: Violation[] = [];

/**
 * A kept exchange as held: its plain values and its redacted parts (no secret), header fields
 * as flat lists. A handful of objects a request rather than a few dozen, which the garbage
 * collector would copy and mark under load; the KeptExchange is made when it is read.
 */
class Kept {
  readonly requestId: string;
  readonly at: number;
  readonly durationMs: number;
  readonly environment: Exchange['environment'];
  readonly surface: Exchange['surface'];
  readonly method: string;
  readonly operationId: string | undefined;
  /** The gate's verdict: ids only (exchange.ts). */
  readonly auth: Exchange['auth'];
  readonly status: number;
  readonly problemCode: string | undefined;
  readonly violationCount: number;
  readonly chaos: string | undefined;

  constructor(
    exchange: Exchange,
    readonly url: string,
    readonly violations: Violation[],
    readonly request: HeldMessage,
    readonly response: HeldMessage,
    readonly curl: string,
  ) {
    this.requestId = exchange.requestId;
    this.at = exchange.at;
    this.durationMs = exchange.durationMs;
    this.environment = exchange.environment;
    this.surface = exchange.surface;
    this.method = exchange.method;
    this.operationId = exchange.operationId;
    this.auth = exchange.auth;
    this.status = exchange.response.status;
    this.problemCode = exchange.problemCode;
    this.violationCount = exchange.violations.length;
    this.chaos = exchange.chaos;
  }

  view(): KeptExchange {
    return {
      summary: {
        requestId: this.requestId,
        at: isoOf(this.at),
        durationMs: Math.max(0, Math.round(this.durationMs * 100) / 100),
        environment: this.environment,
        surface: this.surface,
        method: this.method.toUpperCase(),
        url: this.url,
        operationId: this.operationId ?? null,
        auth: authOf(this.auth, this.request.fields),
        status: this.status,
        problemCode: this.problemCode ?? null,
        violations: this.violationCount,
        chaos: this.chaos ?? null,
      },
      violations: this.violations,
      request: messageOf(this.request, this.requestId),
      response: messageOf(this.response, this.requestId),
      curl: this.curl,
    };
  }
}

/** A kept message as held: a redacted PackedMessage whose fields may name the request's own id as REQUEST_ID. */
type HeldMessage = { readonly fields: FieldList; readonly body: KeptBody | null };

const messageOf = (packed: HeldMessage, requestId: string): KeptMessage => {
  const headers: HeaderField[] = [];
  for (let i = 0; i < packed.fields.length; i += 2) headers.push({ name: packed.fields[i] as string, value: sentValue<string>(packed.fields[i + 1]!, requestId) });
  return { headers, body: packed.body };
};

/** What the gate decided, as the summary shows it (with the key's public part, as sent and kept). */
function authOf(auth: Exchange['auth'], fields: FieldList): Summary['auth'] {
  if (auth === undefined) return { kind: 'none' };
  switch (auth.kind) {
    case 'apiKey': {
      let sent = '';
      for (let i = 0; i < fields.length; i += 2) {
        const value = fields[i + 1];
        if (fields[i] === 'x-api-key' && typeof value === 'string') {
          sent = value;
          break;
        }
      }
      const publicKey = publicKeyOf(sent);
      return { kind: 'apiKey', keyId: auth.keyId, ...(publicKey ? { publicKey } : {}), tenantId: auth.tenantId, environment: auth.environment };
    }
    case 'session':
      return { kind: 'session', userId: auth.userId, tenantId: auth.tenantId };
    case 'refused':
      return { kind: 'refused', code: auth.code };
    default:
      return { kind: 'public' };
  }
}

const sameBody = (a: KeptBody | null, b: KeptBody | null) => a === b || (a !== null && b !== null && a.text === b.text && a.bytes === b.bytes && a.truncated === b.truncated);

/**
 * A redacted message as held: the last equal one kept in the same slot when there is one (the
 * response's X-Request-Id, which differs every time, held as REQUEST_ID so that it can be).
 */
function keptMessages() {
  const messages = new LastValues<HeldMessage>((held, given) => sameBody(held.body, given.body) && sameFieldList(held.fields, given.fields));
  const share = (slot: string, message: PackedMessage, requestId: string): HeldMessage =>
    messages.share(slot, { fields: markRequestId(message.fields, requestId), body: message.body });
  return { share, clear: () => messages.clear() };
}

/**
 * How long an answered exchange may wait to be kept. Waiting is what makes a busy sandbox's
 * inspector cheap: of the exchanges answered meanwhile only the newest N can ever be read (the
 * ring holds N), so only those are redacted; under load most of the work is never done.
 */
export const KEEP_WITHIN_MS = 100;
/** Waiting exchanges whose bodies reach this many characters are kept at once (a bound on memory). */
const MAX_WAITING_BODY_CHARS = 4 * 1024 * 1024;
/** Exchanges kept in one event-loop turn, so keeping a batch never stalls answers for long. */
const KEPT_A_TURN = 64;

/** Operations of the inspector itself: reading the history must not fill it. */
const OWN_OPERATIONS = new Set(['listInspectedRequests', 'getInspectedRequest', 'clearInspectedRequests']);
/** The header the inspector page sends on the GETs it polls with, so they are not kept. */
export const INSPECTOR_POLL_HEADER = 'x-sandbox-inspector';
/** Where the inspector page lives (its assets are not kept either). */
export const INSPECTOR_PAGE_PATH = '/__sandbox/inspector';

export type InspectorOptions = {
  capacity?: number;
  /** The listener base URLs, read when a request is kept (they are known once the listeners are up). */
  baseUrl: (environment: Exchange['environment']) => string;
  rules?: SecretRules;
  /** Told when an exchange could not be kept (never its content). */
  onError?: (message: string) => void;
};

/** The `inspectHistory` option: a RangeError unless a whole number from 0 to MAX_INSPECT_HISTORY. */
export function checkInspectHistory(capacity: number | undefined): void {
  if (capacity === undefined) return;
  if (!(Number.isInteger(capacity) && capacity >= 0 && capacity <= MAX_INSPECT_HISTORY)) {
    throw new RangeError(`inspectHistory must be a whole number from 0 to ${MAX_INSPECT_HISTORY}, got ${capacity}`);
  }
}

export function createInspector(options: InspectorOptions) {
  const capacity = options.capacity ?? DEFAULT_INSPECT_HISTORY;
  checkInspectHistory(capacity);
  const { redact, clean } = createRedactor(options.rules ?? contractSecretRules());
  const packer = createWaitingPacker();
  // What is kept repeats as what is sent does (a polled answer, its curl command): shared the
  // same way (no secret is in it), per operation. See ./waiting.ts for why it matters.
  const keptUrls = new LastValues<string>();
  const keptCurls = new LastValues<string>();
  const keptRequests = keptMessages();
  const keptResponses = keptMessages();
  /** A ring of `capacity` slots: the oldest kept request is at `start`. */
  let ring: Kept[] = [];
  let start = 0;

  function ignored(exchange: Exchange): boolean {
    if (exchange.operationId !== undefined && OWN_OPERATIONS.has(exchange.operationId)) return true;
    const url = exchange.url;
    if (url.startsWith(INSPECTOR_PAGE_PATH)) {
      const next = url.charAt(INSPECTOR_PAGE_PATH.length);
      if (next === '' || next === '?' || next === '/') return true;
    }
    if (exchange.surface !== 'control') return false;
    const method = exchange.method.toUpperCase();
    return (method === 'GET' || method === 'HEAD') && exchange.request.headers[INSPECTOR_POLL_HEADER] === 'page';
  }

  function keep(exchange: Exchange): Kept {
    const { url, request, response, requestBodyTemplate, found } = redact(exchange);
    const { placeholders, spellings } = found;
    const slot = exchange.operationId ?? '';
    return new Kept(
      exchange,
      keptUrls.share(slot, url),
      // Violation messages quote the request (a bad password's value, say): cleaned as the rest.
      exchange.violations.length === 0 ? NO_VIOLATIONS : exchange.violations.slice(0, 20).map((v) => ({ location: v.location.map((l) => clean(l, spellings)), severity: 'Error', code: v.code, message: clean(v.message, spellings) })),
      keptRequests.share(slot, request, exchange.requestId),
      keptResponses.share(slot, response, exchange.requestId),
      keptCurls.share(slot, curlCommand({ exchange, baseUrl: options.baseUrl(exchange.environment), placeholders, spellings, bodyTemplate: requestBodyTemplate, clean })),
    );
  }

  /** Says an exchange was not kept (never its content): a request is never failed by its inspection. */
  const notKept = (requestId: unknown, error: unknown) =>
    options.onError?.(`request inspector: ${typeof requestId === 'string' ? requestId : 'a request'} not kept (${(error as Error)?.name ?? 'Error'})`);

  function store(waited: WaitingExchange): void {
    let record: Kept;
    try {
      record = keep(packer.unpack(waited));
    } catch (error) {
      notKept(packer.requestIdOf(waited), error);
      return;
    }
    if (ring.length < capacity) {
      ring.push(record);
    } else {
      ring[start] = record;
      start = (start + 1) % capacity;
    }
  }

  // Answered exchanges wait (at most KEEP_WITHIN_MS, and only the newest `capacity` of them)
  // and are then kept a slice a turn, so answers are written first and never wait for a long
  // batch. Until kept they are only in memory (never listed, never answered, never written
  // anywhere); every read keeps everything waiting first, so nothing answered is ever missing.
  /** The waiting exchanges: a ring of at most `capacity`, the oldest at `head`, overwritten when full. */
  const waiting: (WaitingExchange | undefined)[] = [];
  let head = 0;
  let count = 0;
  let waitingChars = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** The exchanges being kept, from `next` on, oldest first (each let go as it is kept). */
  let batch: (WaitingExchange | undefined)[] = [];
  let next = 0;

  /**
   * The waiting exchanges join what is left of the batch, oldest first: never kept at once here
   * (this runs on the request path and in the timer), and of what is left only what the waiting
   * ones leave room for (the rest would be overwritten unread).
   */
  function takeWaiting(): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (count === 0) return;
    const left = Math.min(batch.length - next, capacity - count);
    const taken = new Array<WaitingExchange | undefined>(left + count);
    for (let i = 0; i < left; i++) taken[i] = batch[batch.length - left + i];
    for (let i = 0; i < count; i++) {
      const at = (head + i) % capacity;
      taken[left + i] = waiting[at];
      waiting[at] = undefined;
    }
    batch = taken;
    next = 0;
    head = 0;
    count = 0;
    waitingChars = 0;
    packer.forget();
  }

  /** Keeps the next exchange of the batch, letting go of it as sent. */
  function keepNext(): void {
    const waited = batch[next]!;
    batch[next++] = undefined;
    store(waited);
  }

  /** Keeps what is left of the batch now. */
  function keepBatch(): void {
    while (next < batch.length) keepNext();
    batch = [];
    next = 0;
  }

  let sliceScheduled = false;
  function keepSlice(): void {
    sliceScheduled = false;
    const end = Math.min(batch.length, next + KEPT_A_TURN);
    while (next < end) keepNext();
    if (next < batch.length) scheduleSlice();
    else {
      batch = [];
      next = 0;
    }
  }
  function scheduleSlice(): void {
    if (sliceScheduled) return;
    sliceScheduled = true;
    setImmediate(keepSlice);
  }

  const keepSoon = () => {
    takeWaiting();
    scheduleSlice();
  };

  /** Before any read: everything answered so far, kept. */
  const keepAll = () => {
    takeWaiting();
    keepBatch();
  };

  /** The observer the app calls once per answered request. Never throws into the request path. */
  const observe: ExchangeObserver = (exchange) => {
    if (capacity === 0) return;
    let waited: WaitingExchange;
    try {
      if (ignored(exchange)) return;
      waited = packer.pack(exchange);
    } catch (error) {
      // What it shared before failing is let go at once (nothing waits to hold it).
      packer.forget();
      notKept(exchange?.requestId, error);
      return;
    }
    if (count === capacity) {
      // Only the newest `capacity` can ever be read: the oldest waiting one is let go unredacted
      // (values it shared are let go when the waiting ones are next taken, within KEEP_WITHIN_MS).
      waitingChars -= packer.charsOf(waiting[head]!);
      waiting[head] = waited;
      head = (head + 1) % capacity;
    } else {
      waiting[(head + count) % capacity] = waited;
      count++;
    }
    waitingChars += packer.charsOf(waited);
    if (waitingChars >= MAX_WAITING_BODY_CHARS) keepSoon();
    else if (timer === undefined) {
      timer = setTimeout(keepSoon, KEEP_WITHIN_MS);
      timer.unref?.();
    }
  };

  return {
    capacity,
    observe,
    /** Newest first, filtered. */
    list(filter: InspectorFilter = {}): KeptExchange[] {
      keepAll();
      const status = filter.status?.toLowerCase();
      const matches = (r: Kept) =>
        (filter.operationId === undefined || (r.operationId ?? null) === filter.operationId) &&
        (status === undefined || (status.endsWith('xx') ? String(r.status)[0] === status[0] : String(r.status) === status)) &&
        (filter.keyId === undefined || (r.auth?.kind === 'apiKey' ? r.auth.keyId : undefined) === filter.keyId);
      const out: KeptExchange[] = [];
      for (let i = ring.length - 1; i >= 0; i--) {
        const record = ring[(start + i) % ring.length]!;
        if (matches(record)) out.push(record.view());
      }
      return out;
    },
    get: (requestId: string) => {
      keepAll();
      // A scan, not an index: reads are rare, and a Map kept beside the ring cost every request
      // a set and a delete (and its rehashing) on the request path.
      for (const record of ring) if (record.requestId === requestId) return record.view();
      return undefined;
    },
    /** Forgets everything; returns how many were kept. */
    clear(): number {
      keepAll();
      const count = ring.length;
      ring = [];
      start = 0;
      for (const held of [keptUrls, keptCurls, keptRequests, keptResponses]) held.clear();
      return count;
    },
    size: () => {
      keepAll();
      return ring.length;
    },
  };
}

export type Inspector = ReturnType<typeof createInspector>;
