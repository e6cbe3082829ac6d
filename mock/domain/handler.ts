// What a domain handler sees and returns. Handlers never touch HTTP: they get the validated
// request and the caller the gate identified, emit events through the store, and return a
// reply (or throw a ProblemError) that the app turns into the response.
import type { Caller } from '../gate/authenticate.ts';
import type { Services } from '../services.ts';
import type { KeyEnvironment } from '../state/events.ts';

export type HandlerContext<Body = any> = {
  services: Services;
  caller: Caller;
  /** The environment of the listener the request arrived on. */
  environment: KeyEnvironment;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: Body;
  /** The body as received, for exact amounts: JSON numbers are read from their text, never via a double. */
  rawBody: string | undefined;
  requestId: string;
};

export type Reply = {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Set-Cookie header fields, one per cookie. */
  cookies?: string[];
};

export type Handler = (ctx: HandlerContext) => Reply | Promise<Reply>;
export type Handlers = Record<string, Handler>;

/** The seeds' success envelope. */
export const ok = (status: number, data: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body: { statusCode: status, data },
  ...(headers ? { headers } : {}),
});

/** An instant as ISO 8601, as every view writes it (one cached formatter: state/clock.ts). */
export { isoOf as iso } from '../state/clock.ts';

/** Narrows the caller to the kind the operation's security requirement guarantees. */
export function callerOf<K extends Caller['kind']>(ctx: HandlerContext, kind: K): Extract<Caller, { kind: K }> {
  if (ctx.caller.kind !== kind) throw new Error(`expected a ${kind} caller, got ${ctx.caller.kind}`);
  return ctx.caller as Extract<Caller, { kind: K }>;
}

/** Pagination as the seeds do it: page/limit in, {items,total,page,limit} out. */
export function paginate<T>(all: T[], query: Record<string, string | string[]>, defaultLimit = 20) {
  // An empty value (`?page=`) is an absent one, as the contract's form-style parameters read it.
  const given = (name: string) => (query[name] === undefined || query[name] === '' ? undefined : query[name]);
  const page = Number(given('page') ?? 1);
  const limit = Number(given('limit') ?? defaultLimit);
  return { items: all.slice((page - 1) * limit, page * limit), total: all.length, page, limit };
}
