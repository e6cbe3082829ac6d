// What the request path (mock/app.ts) tells the rest of the sandbox about a request: the
// exchange once answered (for the request inspector), and the chaos it asks for before
// routing to a handler. Plain data, no behaviour: the path composes whoever consumes it.
import type { KeyEnvironment } from '../state/events.ts';

/** Who the auth gate let in, or why it refused (never a secret: ids and public prefixes only). */
export type AuthVerdict =
  | { kind: 'public' }
  | { kind: 'apiKey'; keyId: string; tenantId: string; environment: KeyEnvironment }
  | { kind: 'session'; userId: string; tenantId: string }
  | { kind: 'refused'; code: string };

export type ExchangeViolation = { location: string[]; code: string; message: string };

/**
 * One request as the sandbox answered it. Headers and bodies are as sent and received, secrets
 * included: whoever keeps an exchange must redact it first.
 */
export type Exchange = {
  requestId: string;
  /** When it arrived, on the sandbox clock (ms since the epoch). */
  at: number;
  /** Wall time from arrival to the answer being ready (not written yet), in ms. */
  durationMs: number;
  environment: KeyEnvironment;
  /** Which surface answered: the public API, the control surface, the docs site, or none (refused before routing). */
  surface: 'api' | 'control' | 'docs' | 'none';
  method: string;
  /** Path and query string as received. */
  url: string;
  operationId?: string;
  auth?: AuthVerdict;
  /** The request validation violations it was refused for (empty when it passed). */
  violations: ExchangeViolation[];
  request: { headers: Record<string, string>; body?: string };
  response: { status: number; headers: Record<string, string | string[]>; body?: string };
  /** The problem's `code` when the answer is a problem. */
  problemCode?: string;
  /** The chaos applied to it, described (e.g. `latency 120 ms`, `status 503`), if any. */
  chaos?: string;
};

export type ExchangeObserver = (exchange: Exchange) => void;

/**
 * What chaos asks of one request to the public API, decided before its handler runs:
 * a delay first (may be 0), then at most one fault instead of the real answer.
 */
export type ChaosDecision = {
  delayMs: number;
  fault?:
    | { kind: 'status'; status: 429 | 500 | 503; retryAfterSeconds?: number }
    /** Never answer: the connection stays open until the client gives up. */
    | { kind: 'hang' }
    /** Reset the connection without an answer. */
    | { kind: 'reset' };
  /** How to describe it in the inspector. */
  description: string;
};

/** `undefined`: no chaos for this request. `operationId` is absent when the request matched no operation. */
export type ChaosPolicy = (request: { operationId?: string; environment: KeyEnvironment; method: string }) => ChaosDecision | undefined;
