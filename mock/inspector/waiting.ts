// An answered exchange while it waits to be kept (./history.ts): one flat list instead of the
// dozen objects the request path made, its repeated values shared (./last-values.ts). Under load
// the newest N exchanges are always waiting, and they are what every young-generation collection
// copies: fewer objects and fewer fresh strings make each of those pauses shorter, and the pauses
// are the p99 (`npm run bench`, profile section: the scavenge median with the inspector on went
// from about 1.2 ms to 0.7 ms; with it off, 0.6 ms). Raw values, secrets included, are shared
// only among waiting exchanges: `forget()` as the waiting ones are taken, so the sharing holds
// none for longer than KEEP_WITHIN_MS (a waiting exchange overwritten unread may leave values
// shared until then).
import type { AuthVerdict, Exchange } from '../http/exchange.ts';
import { LastValues } from './last-values.ts';

/** A waiting exchange: see `pack` for its layout. Opaque outside this module. */
export type WaitingExchange = readonly unknown[] & { readonly __waiting: true };

/**
 * Header fields as one flat list (name, value, name, value, …), in the order received; the
 * request's own id, where a value is that, as REQUEST_ID (so a list can be shared across requests).
 */
export type FieldList = readonly (string | string[] | typeof REQUEST_ID)[];
export const REQUEST_ID: unique symbol = Symbol('the request id');

/** Bodies longer than this are held as they are (comparing them would cost more than copying). */
const SHARED_BODY_CHARS = 16 * 1024;
const NO_VIOLATIONS: Exchange['violations'] = [];

// The list's slots.
const REQUEST_ID_AT = 0, AT = 1, DURATION = 2, ENVIRONMENT = 3, SURFACE = 4, METHOD = 5, URL = 6, OPERATION = 7;
const AUTH = 8, VIOLATIONS = 9, PROBLEM = 10, CHAOS = 11, STATUS = 12, REQUEST_BODY = 13, RESPONSE_BODY = 14;
const REQUEST_FIELDS = 15, RESPONSE_FIELDS = 16;

const sameVerdict = (a: AuthVerdict, b: AuthVerdict): boolean => {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'apiKey':
      return b.kind === 'apiKey' && a.keyId === b.keyId && a.tenantId === b.tenantId && a.environment === b.environment;
    case 'session':
      return b.kind === 'session' && a.userId === b.userId && a.tenantId === b.tenantId;
    case 'refused':
      return b.kind === 'refused' && a.code === b.code;
    case 'public':
      return true;
    default:
      return false;
  }
};

/** A header field's value as a field list holds it. */
const heldValue = (value: string | string[], requestId: string) => (value === requestId ? REQUEST_ID : value);
/** A field list's value as sent: the request id put back. */
export const sentValue = <V extends string | string[]>(value: FieldList[number], requestId: string): V => (value === REQUEST_ID ? requestId : value) as V;

/** Flat header fields (name, value, …) with the request's own id marked, copied only when it appears. */
export function markRequestId(fields: readonly string[], requestId: string): FieldList {
  let marked: FieldList[number][] | undefined;
  for (let i = 1; i < fields.length; i += 2) {
    if (fields[i] !== requestId) continue;
    marked ??= [...fields];
    marked[i] = REQUEST_ID;
  }
  return marked ?? fields;
}

/** Whether two field lists hold the same fields in the same order. */
export const sameFieldList = (a: FieldList, b: FieldList): boolean => a.length === b.length && a.every((value, i) => value === b[i]);

/** Whether `list` holds exactly these header fields, in this order. */
function sameFields(list: FieldList, headers: Record<string, string | string[]>, requestId: string): boolean {
  const names = Object.keys(headers);
  if (list.length !== 2 * names.length) return false;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (list[2 * i] !== name || list[2 * i + 1] !== heldValue(headers[name]!, requestId)) return false;
  }
  return true;
}

/** Header fields as an object again, the request id put back. */
export function headersOf<V extends string | string[]>(list: FieldList, requestId: string): Record<string, V> {
  const headers: Record<string, V> = {};
  for (let i = 0; i < list.length; i += 2) {
    const value = list[i + 1]!;
    const name = list[i] as string;
    const held = sentValue<V>(value, requestId);
    // A field named __proto__ is a field here, not the object's prototype.
    if (name === '__proto__') Object.defineProperty(headers, name, { value: held, enumerable: true, writable: true, configurable: true });
    else headers[name] = held;
  }
  return headers;
}

export function createWaitingPacker() {
  const values = new LastValues<string>();
  const urls = new LastValues<string>();
  const requestBodies = new LastValues<string>();
  const responseBodies = new LastValues<string>();
  const requestFields = new LastValues<FieldList>();
  const responseFields = new LastValues<FieldList>();
  const verdicts = new LastValues<AuthVerdict>(sameVerdict);

  const body = (held: LastValues<string>, slot: string, text: string | undefined) =>
    text === undefined || text.length > SHARED_BODY_CHARS ? text : held.share(slot, text);

  /** The header fields as a list: the one held for `slot` when they are the same, else a new one (then held). */
  function fieldList(held: LastValues<FieldList>, slot: string, headers: Record<string, string | string[]>, requestId: string): FieldList {
    const last = held.held(slot);
    if (last !== undefined && sameFields(last, headers, requestId)) return last;
    const list: (string | string[] | typeof REQUEST_ID)[] = [];
    for (const name of Object.keys(headers)) {
      const value = heldValue(headers[name]!, requestId);
      list.push(name, typeof value === 'string' ? values.share(name, value) : value);
    }
    return held.share(slot, list);
  }

  return {
    pack(exchange: Exchange): WaitingExchange {
      const slot = exchange.operationId ?? '';
      const { requestId } = exchange;
      const list: unknown[] = [
        requestId,
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
        fieldList(requestFields, slot, exchange.request.headers, requestId),
        fieldList(responseFields, slot, exchange.response.headers, requestId),
      ];
      return list as unknown as WaitingExchange;
    },
    /** Its request id, for saying it was not kept. */
    requestIdOf: (waiting: WaitingExchange): unknown => waiting[REQUEST_ID_AT],
    /** The exchange as it was answered. */
    unpack(waiting: WaitingExchange): Exchange {
      const requestId = waiting[REQUEST_ID_AT] as string;
      const exchange: Exchange = {
        requestId,
        at: waiting[AT] as number,
        durationMs: waiting[DURATION] as number,
        environment: waiting[ENVIRONMENT] as Exchange['environment'],
        surface: waiting[SURFACE] as Exchange['surface'],
        method: waiting[METHOD] as string,
        url: waiting[URL] as string,
        violations: waiting[VIOLATIONS] as Exchange['violations'],
        request: { headers: headersOf<string>(waiting[REQUEST_FIELDS] as FieldList, requestId) },
        response: { status: waiting[STATUS] as number, headers: headersOf(waiting[RESPONSE_FIELDS] as FieldList, requestId) },
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
      for (const held of [values, urls, requestBodies, responseBodies, requestFields, responseFields, verdicts]) held.clear();
    },
  };
}
