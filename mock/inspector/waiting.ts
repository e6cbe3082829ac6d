// An answered exchange while it waits to be kept (./history.ts): one flat list instead of the
// dozen objects the request path made, its repeated values shared (./last-values.ts). Under load
// the newest N exchanges are always waiting, and they are what every young-generation collection
// copies: fewer objects and fewer fresh strings make each of those pauses shorter, and the pauses
// are the p99 (`npm run bench`: the scavenge median with the inspector on went from about 1.2 ms
// to 0.7 ms, with it off 0.5 ms). Raw values, secrets included, are shared only among waiting
// exchanges: `forget()` as the waiting ones are taken, so the sharing holds none for longer.
import type { AuthVerdict, Exchange } from '../http/exchange.ts';
import { LastValues } from './last-values.ts';

/** A waiting exchange: see `pack` for its layout. Opaque outside this module. */
export type WaitingExchange = readonly unknown[] & { readonly __waiting: true };

/** Bodies longer than this are held as they are (comparing them would cost more than copying). */
const SHARED_BODY_CHARS = 16 * 1024;
const NO_VIOLATIONS: Exchange['violations'] = [];

// The list's fixed part; header fields follow it, the request's first (REQUEST_FIELDS of them).
const REQUEST_ID = 0, AT = 1, DURATION = 2, ENVIRONMENT = 3, SURFACE = 4, METHOD = 5, URL = 6, OPERATION = 7;
const AUTH = 8, VIOLATIONS = 9, PROBLEM = 10, CHAOS = 11, STATUS = 12, REQUEST_BODY = 13, RESPONSE_BODY = 14;
const REQUEST_FIELDS = 15, FIELDS = 16;

const sameVerdict = (a: AuthVerdict, b: AuthVerdict): boolean => {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'apiKey':
      return b.kind === 'apiKey' && a.keyId === b.keyId && a.tenantId === b.tenantId && a.environment === b.environment;
    case 'session':
      return b.kind === 'session' && a.userId === b.userId && a.tenantId === b.tenantId;
    case 'refused':
      return b.kind === 'refused' && a.code === b.code;
    default:
      return true;
  }
};

export function createWaitingPacker() {
  const requestValues = new LastValues<string>();
  const responseValues = new LastValues<string>();
  const urls = new LastValues<string>();
  const requestBodies = new LastValues<string>();
  const responseBodies = new LastValues<string>();
  const verdicts = new LastValues<AuthVerdict>(sameVerdict);

  const body = (values: LastValues<string>, slot: string, text: string | undefined) =>
    text === undefined || text.length > SHARED_BODY_CHARS ? text : values.share(slot, text);

  function pack(exchange: Exchange): WaitingExchange {
    const slot = exchange.operationId ?? '';
    const list: unknown[] = [
      exchange.requestId,
      exchange.at,
      exchange.durationMs,
      exchange.environment,
      exchange.surface,
      exchange.method,
      urls.share(slot, exchange.url),
      exchange.operationId,
      exchange.auth === undefined ? undefined : verdicts.share(exchange.auth.kind, exchange.auth),
      exchange.violations.length === 0 ? NO_VIOLATIONS : exchange.violations,
      exchange.problemCode,
      exchange.chaos,
      exchange.response.status,
      body(requestBodies, slot, exchange.request.body),
      body(responseBodies, slot, exchange.response.body),
      0,
    ];
    const requestHeaders = exchange.request.headers;
    let fields = 0;
    for (const name in requestHeaders) {
      list.push(name, requestValues.share(name, requestHeaders[name]!));
      fields++;
    }
    list[REQUEST_FIELDS] = fields;
    const responseHeaders = exchange.response.headers;
    for (const name in responseHeaders) {
      const value = responseHeaders[name]!;
      list.push(name, typeof value === 'string' ? responseValues.share(name, value) : value);
    }
    return list as unknown as WaitingExchange;
  }

  return {
    pack,
    /** The exchange as it was answered. */
    unpack(waiting: WaitingExchange): Exchange {
      const requestHeaders: Record<string, string> = {};
      const end = FIELDS + 2 * (waiting[REQUEST_FIELDS] as number);
      let i = FIELDS;
      for (; i < end; i += 2) requestHeaders[waiting[i] as string] = waiting[i + 1] as string;
      const responseHeaders: Record<string, string | string[]> = {};
      for (; i < waiting.length; i += 2) responseHeaders[waiting[i] as string] = waiting[i + 1] as string | string[];
      const exchange: Exchange = {
        requestId: waiting[REQUEST_ID] as string,
        at: waiting[AT] as number,
        durationMs: waiting[DURATION] as number,
        environment: waiting[ENVIRONMENT] as Exchange['environment'],
        surface: waiting[SURFACE] as Exchange['surface'],
        method: waiting[METHOD] as string,
        url: waiting[URL] as string,
        violations: waiting[VIOLATIONS] as Exchange['violations'],
        request: { headers: requestHeaders },
        response: { status: waiting[STATUS] as number, headers: responseHeaders },
      };
      if (waiting[REQUEST_BODY] !== undefined) exchange.request.body = waiting[REQUEST_BODY] as string;
      if (waiting[RESPONSE_BODY] !== undefined) exchange.response.body = waiting[RESPONSE_BODY] as string;
      if (waiting[OPERATION] !== undefined) exchange.operationId = waiting[OPERATION] as string;
      if (waiting[AUTH] !== undefined) exchange.auth = waiting[AUTH] as AuthVerdict;
      if (waiting[PROBLEM] !== undefined) exchange.problemCode = waiting[PROBLEM] as string;
      if (waiting[CHAOS] !== undefined) exchange.chaos = waiting[CHAOS] as string;
      return exchange;
    },
    /** The characters of its bodies (what bounds the memory waiting exchanges hold). */
    charsOf: (waiting: WaitingExchange): number =>
      ((waiting[REQUEST_BODY] as string | undefined)?.length ?? 0) + ((waiting[RESPONSE_BODY] as string | undefined)?.length ?? 0),
    /** Shares nothing seen so far any more (called once no exchange waits). */
    forget(): void {
      requestValues.clear();
      responseValues.clear();
      urls.clear();
      requestBodies.clear();
      responseBodies.clear();
      verdicts.clear();
    },
  };
}
