// `PacSpace`: the Balance API client of the quick start, over openapi-fetch's
// `createClient<paths>` with the generated types. Every method is one typed openapi-fetch call
// passed through the shared transport (timeouts, retries) and `unwrap` (envelope `data` or a
// typed error); there is no per-method request, retry or error code.
import createClient, { type Client } from 'openapi-fetch';
import type {
  Amount,
  Checkpoint,
  CompareReport,
  DerivedBalance,
  Metadata,
  paths,
  Receipt,
  ReceiptPage,
  Verification,
} from '../generated/openapi.d.ts';
import { ConfigurationError, noRedaction, redactorFor, type Redactor } from './errors.ts';
import { inspectCustom, quoted, type InspectOptions } from './inspect.ts';
import { parseApiKey, PRODUCTION_URL, normalizeBaseUrl, resolveBalanceUrl, type EndpointOptions, type KeyEnvironment } from './keys.ts';
import { paginate } from './pagination.ts';
import { createTransport, unwrap, type FetchLike, type RetryEvent } from './transport.ts';

/** Options every client takes: how requests are sent, timed out and retried. */
export type RequestOptions = {
  /** A fetch implementation (default `globalThis.fetch`); it receives a `Request`. */
  fetch?: FetchLike;
  /** Retries after the first attempt for transient failures (default 2; 0 disables retries). */
  maxRetries?: number;
  /** Time limit of one attempt in milliseconds, body included (default 30000). */
  timeoutMs?: number;
  /** Backoff tuning: attempt n waits a random time in [d/2, d], d = min(maxDelayMs, baseDelayMs·2^n). */
  retry?: {
    /** Default 500 ms. */
    baseDelayMs?: number;
    /** Default 8000 ms. */
    maxDelayMs?: number;
    /** The longest `Retry-After` the SDK waits for by itself (default 60000 ms); longer ones are thrown as they are. */
    maxRetryAfterMs?: number;
  };
  /** Called before each retry; the event holds no header, body or key. */
  onRetry?: (event: RetryEvent) => void;
};

export type PacSpaceOptions = RequestOptions &
  EndpointOptions & {
    /** The full key, `pk_{test|live}_{publicId}.sk_{test|live}_{secret}`. Its prefix picks the environment. */
    apiKey: string;
  };

export type EmitOptions = {
  /** Your unique reference for this delta; used once per customer (a repeat is a `ConflictError`). */
  referenceId?: string;
  /** Up to 20 string key/value pairs; part of the proof leaf. */
  metadata?: Metadata;
  /**
   * The `Idempotency-Key` (1 to 255 printable ASCII characters). By default the SDK generates a
   * UUID once per `emit` call and sends it on every retry of that call. Pass your own to make a
   * retry of the whole operation (for example after a crash) safe as well.
   */
  idempotencyKey?: string;
};

export type CompareViews = {
  /** Your computed balance. */
  yours: Amount;
  /** The counterparty's computed balance. */
  theirs: Amount;
};

export type CompareOptions = {
  /** The balance both sides agree on before the first recorded delta (default 0). */
  startingBalance?: Amount;
};

export type ListOptions = { page?: number; limit?: number };

/** Recording and proving usage: the quick start's four calls. */
export interface BalanceApi {
  /** Records a delta for a customer (`POST /api/v1/balance/delta`); resolves to its receipt. */
  emit(customerId: string, delta: Amount, reason: string, options?: EmitOptions): Promise<Receipt>;
  /** The customer's balance derived from every recorded delta (`computedBalance`, counts, last checkpoint). */
  derive(customerId: string): Promise<DerivedBalance>;
  /**
   * Compares your view with the counterparty's. With a `customerId`, both are checked against the
   * ledger (`matchesYours`, `matchesTheirs`); with `null`/`undefined`, the two views are compared
   * with each other. `discrepancy` is always `yours - theirs`, exactly.
   */
  compare(customerId: string | null | undefined, views: CompareViews, options?: CompareOptions): Promise<CompareReport>;
  /** Locks a Merkle `proofRoot` over the customer's deltas since its previous checkpoint. */
  checkpoint(customerId: string): Promise<Checkpoint>;
}

export interface ReceiptsApi {
  /** One receipt; once checkpointed it carries its `inclusionProof`. */
  get(receiptId: string): Promise<Receipt>;
}

export interface CheckpointsApi {
  get(checkpointId: string): Promise<Checkpoint>;
  /** One page of the receipts a checkpoint covers, in leaf order (`limit` 1 to 1000). */
  listReceipts(checkpointId: string, options?: ListOptions): Promise<ReceiptPage>;
  /** Every receipt the checkpoint covers, fetching pages of `limit` (default 1000) as needed. */
  allReceipts(checkpointId: string, options?: { limit?: number }): AsyncGenerator<Receipt, void, undefined>;
}

/** Builds the transport options shared by both clients from the public options. */
export function transportFrom(options: RequestOptions, redact: Redactor) {
  return {
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retry ?? {}),
    ...(options.onRetry === undefined ? {} : { onRetry: options.onRetry }),
    redact,
  };
}

function verifyWith(client: Client<paths>, proofRoot: string, redact: Redactor): Promise<Verification> {
  return unwrap(client.GET('/api/v1/verify/{proofRoot}', { params: { path: { proofRoot } } }), redact);
}

export class PacSpace {
  /** `test` (Sandbox) or `live` (Production), from the key prefix. */
  readonly environment: KeyEnvironment;
  /** The Balance API base URL every request of this client goes to. */
  readonly baseUrl: string;
  /** The key's public half, `pk_{env}_{publicId}`: safe to log. */
  readonly publicKey: string;
  readonly balance: BalanceApi;
  readonly receipts: ReceiptsApi;
  readonly checkpoints: CheckpointsApi;
  readonly #public: Client<paths>;
  readonly #redact: Redactor;

  constructor(options: PacSpaceOptions) {
    if (!options || typeof options !== 'object') {
      throw new ConfigurationError({ code: 'invalid_configuration', detail: 'PacSpace: pass an options object with apiKey.' });
    }
    const key = parseApiKey(options.apiKey);
    this.environment = key.environment;
    this.publicKey = key.publicKey;
    this.baseUrl = resolveBalanceUrl(key.environment, options);
    const redact = redactorFor([options.apiKey, key.secretKey]);
    this.#redact = redact;
    const fetch = createTransport(transportFrom(options, redact));
    const api = createClient<paths>({ baseUrl: this.baseUrl, fetch, headers: { 'X-Api-Key': options.apiKey } });
    this.#public = createClient<paths>({ baseUrl: this.baseUrl, fetch });

    this.balance = {
      emit: (customerId, delta, reason, opts = {}) =>
        unwrap(
          api.POST('/api/v1/balance/delta', {
            // One key per emit call, generated before the first attempt and sent on every retry.
            params: { header: { 'Idempotency-Key': opts.idempotencyKey ?? globalThis.crypto.randomUUID() } },
            body: {
              customerId,
              delta,
              reason,
              ...(opts.referenceId === undefined ? {} : { referenceId: opts.referenceId }),
              ...(opts.metadata === undefined ? {} : { metadata: opts.metadata }),
            },
          }),
          redact,
        ),
      derive: (customerId) =>
        unwrap(api.GET('/api/v1/balance/derive/{customerId}', { params: { path: { customerId } } }), redact),
      compare: (customerId, views, opts = {}) =>
        unwrap(
          api.POST('/api/v1/balance/compare', {
            body: {
              ...(customerId === null || customerId === undefined ? {} : { customerId }),
              yourBalance: views.yours,
              theirBalance: views.theirs,
              ...(opts.startingBalance === undefined ? {} : { startingBalance: opts.startingBalance }),
            },
          }),
          redact,
        ),
      checkpoint: (customerId) => unwrap(api.POST('/api/v1/balance/checkpoint', { body: { customerId } }), redact),
    };

    this.receipts = {
      get: (receiptId) => unwrap(api.GET('/api/v1/receipts/{receiptId}', { params: { path: { receiptId } } }), redact),
    };

    const listReceipts = (checkpointId: string, opts: ListOptions = {}): Promise<ReceiptPage> =>
      unwrap(
        api.GET('/api/v1/checkpoints/{checkpointId}/receipts', {
          params: { path: { checkpointId }, query: { ...(opts.page === undefined ? {} : { page: opts.page }), ...(opts.limit === undefined ? {} : { limit: opts.limit }) } },
        }),
        redact,
      );
    this.checkpoints = {
      get: (checkpointId) => unwrap(api.GET('/api/v1/checkpoints/{checkpointId}', { params: { path: { checkpointId } } }), redact),
      listReceipts,
      allReceipts: (checkpointId, opts = {}) => paginate((page) => listReceipts(checkpointId, { page, limit: opts.limit ?? 1000 })),
    };
  }

  /**
   * Public verification of a proof root (`GET /api/v1/verify/{proofRoot}`): what the checkpoint
   * covers, or a `NotFoundError`. Sent without the API key, to this client's environment.
   */
  verify(proofRoot: string): Promise<Verification> {
    return verifyWith(this.#public, proofRoot, this.#redact);
  }

  toJSON() {
    return { environment: this.environment, baseUrl: this.baseUrl, publicKey: this.publicKey };
  }

  [inspectCustom](_depth?: number, options?: InspectOptions) {
    const s = (v: string) => quoted(v, options);
    return `PacSpace { environment: ${s(this.environment)}, baseUrl: ${s(this.baseUrl)}, publicKey: ${s(this.publicKey)}, apiKey: [redacted] }`;
  }
}

export type VerifyProofRootOptions = RequestOptions & {
  /** The environment's base URL the proof root comes from (default Production, `https://app.pacspace.io`). */
  baseUrl?: string;
};

/**
 * Verifies a proof root without any credentials, for counterparties and auditors who have no
 * PacSpace key: `GET /api/v1/verify/{proofRoot}` at `baseUrl`.
 */
export function verifyProofRoot(proofRoot: string, options: VerifyProofRootOptions = {}): Promise<Verification> {
  const baseUrl = normalizeBaseUrl('baseUrl', options.baseUrl ?? PRODUCTION_URL);
  const client = createClient<paths>({ baseUrl, fetch: createTransport(transportFrom(options, noRedaction)) });
  return verifyWith(client, proofRoot, noRedaction);
}
