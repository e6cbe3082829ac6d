// An exchange made safe to keep: every secret replaced before anything is stored, so the
// history, the control answers and the inspector page cannot leak one (the secret never
// reaches memory the inspector owns). What is secret comes from the contracts
// (./secret-rules.ts). Three passes:
//  1. by place: the API key header keeps its public `pk_…` part, cookies keep their names,
//     secret JSON members, query parameters and headers become `[redacted]`;
//  2. by shape: anything matching a reveal-once pattern (`sk_…`, `whsec_…`) anywhere;
//  3. by value: every secret value found in pass 1 is masked wherever else it appears in the
//     same exchange (an e-mailed token inside the outbox's `link` and `text`, a password
//     echoed somewhere, a key in the query string).
// The same places are named for copy-as-curl (./curl.ts): `Placeholder`s map each secret value
// to the shell variable that replaces it there.
import type { Exchange } from '../http/exchange.ts';
import type { SecretRules } from './secret-rules.ts';

export const REDACTED = '[redacted]';
/** Bodies are kept up to this many characters, after redaction. */
export const MAX_KEPT_BODY = 16 * 1024;
/** Bodies longer than this are redacted as text from their start only. */
const LARGE_BODY = 64 * 1024;
/** Header fields whose value is a URL, redacted as the request's own URL is. */
const URL_HEADERS = new Set(['referer', 'location', 'content-location']);
/** A body kept as this: not JSON (or too large to read again) and something in it may name a secret. */
export const WITHHELD = '[withheld: this body is not JSON, or too large to read again, and it may hold a secret]';
/** The marker a secret member's value becomes in a body's curl template (JSON-escaped there). */
const marker = (variable: string) => `\u0001${variable}\u0001`;
/** A marker as it appears in serialized JSON. */
export const MARKER_IN_JSON = /\\u0001([A-Z0-9_]+)\\u0001/g;
/** Shorter values are not masked elsewhere by value (`1` would mask every digit). */
const MIN_VALUE_LENGTH = 6;

export type HeaderField = { name: string; value: string };
export type KeptBody = { text: string; bytes: number; truncated: boolean };
export type KeptMessage = { headers: HeaderField[]; body: KeptBody | null };
/** A message as the history holds it: its header fields as one flat list (name, value, name, value, …). */
export type PackedMessage = { fields: string[]; body: KeptBody | null };
export type Placeholder = { value: string; name: string };

/** What one exchange's redaction found: the secret values (with the shell variable for each), and every spelling of them to mask. */
export type Found = { placeholders: Placeholder[]; spellings: string[] };

/** The shell variable named for a secret of this kind (copy-as-curl). */
function variableFor(kind: string): string {
  const known = variables.get(kind);
  if (known !== undefined) return known;
  const variable = variableOf(kind);
  // Kinds are member, header and cookie names: a client can send endless cookie names, so the
  // cache is bounded. A name is a slice of the header it came in (cookies and all): kept as a
  // copy of its own, or the cache would keep that header alive, secrets included.
  if (variables.size < 256) variables.set(copyOf(kind), variable);
  return variable;
}
const variables = new Map<string, string>();

function variableOf(kind: string): string {
  switch (kind) {
    case 'apiKey':
      return 'PACSPACE_API_KEY';
    case 'password':
      return 'PACSPACE_PASSWORD';
    case 'pacspace_access':
      return 'PACSPACE_SESSION_COOKIE';
    case 'pacspace_refresh':
      return 'PACSPACE_REFRESH_COOKIE';
    case 'controlToken':
      return 'PACSPACE_CONTROL_TOKEN';
    case 'token':
    case 'accessToken':
      return 'PACSPACE_EMAIL_TOKEN';
    case 'secret':
      return 'PACSPACE_WEBHOOK_SECRET';
    case 'secretKey':
    case 'fullKey':
      return 'PACSPACE_NEW_API_KEY';
    default:
      return `PACSPACE_${kind.replace(/[^A-Za-z0-9]+/g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
  }
}

/** No secret found: one shared list (most exchanges of a load). */
const NO_PLACEHOLDERS: Placeholder[] = [];

/** The secret values one exchange's redaction finds, each with its shell variable (a class: no closures made per exchange). */
class Collector {
  /** In the order found, each value once (an exchange holds a few at most: a list beats a Map). */
  private found: Placeholder[] | undefined;

  add(value: string, kind: string): void {
    if (value.length === 0 || value === REDACTED) return;
    if (this.found === undefined) this.found = [];
    else for (const p of this.found) if (p.value === value) return;
    this.found.push({ value, name: variableFor(kind) });
  }

  placeholders(): Placeholder[] {
    const out = this.found;
    if (out === undefined) return NO_PLACEHOLDERS;
    // Longest first: a full key is replaced before its secret half could be.
    return out.length > 1 ? longestFirst(out) : out;
  }
}
/**
 * Text made of parts as one new string. A kept string built from a slice of the text as received
 * (`pk_…` of a full key, a cookie's attributes) would otherwise keep that whole text alive
 * underneath, secret included (V8 shares a slice's characters with its parent).
 */
const flat = (...parts: string[]) => parts.join('');

/** A string's own copy, sharing no characters with the text it was cut from. */
const copyOf = (text: string) => Buffer.from(text, 'utf16le').toString('utf16le');

const pushOnce = (list: string[], item: string) => {
  if (!list.includes(item)) list.push(item);
};
/**
 * Sorted in place, longest value first, stable. An insertion sort: an exchange holds a few
 * secrets, and `Array.prototype.sort` allocates its work space on every call (about 1 KB, on
 * every kept request).
 */
export function longestFirst<T extends { value: string }>(list: T[]): T[] {
  for (let i = 1; i < list.length; i++) {
    const item = list[i]!;
    let j = i - 1;
    while (j >= 0 && list[j]!.value.length < item.value.length) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = item;
  }
  return list;
}

/** Text that JSON-escaping and percent-encoding leave as it is. */
const PLAIN = /^[A-Za-z0-9_.!~*'()-]*$/;

export function createRedactor(rules: SecretRules) {
  /** Pass 2: secret-shaped text (an API key keeps its public part). */
  // One scan says whether any secret shape occurs at all (most texts hold none).
  const anyShape = rules.patterns.length ? new RegExp(rules.patterns.map((p) => `(?:${p.source})`).join('|'), rules.patterns[0]!.flags.replace('g', '')) : undefined;
  // And whether a text names a secret member at all, or could spell a name with escapes.
  const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const anyMember = rules.members.size ? new RegExp([...rules.members].map(escapeRegExp).join('|')) : undefined;

  function byShape(text: string): string {
    if (!anyShape?.test(text)) return text;
    let out = text;
    for (const pattern of rules.patterns) {
      out = out.replace(pattern, (match) => (match.startsWith('pk_') && match.includes('.') ? `${match.slice(0, match.indexOf('.') + 1)}${REDACTED}` : REDACTED));
    }
    return out;
  }

  /** The spellings a secret value may take in text (as is, JSON-escaped, percent-encoded), longest values first. */
  function spellingsOf(placeholders: Placeholder[]): string[] {
    if (placeholders.length === 0) return [];
    const out: string[] = [];
    for (const { value } of placeholders) {
      if (value.length < MIN_VALUE_LENGTH) continue;
      // Most secrets (keys, tokens) are spelled the same every way: no escaping to try.
      if (PLAIN.test(value)) {
        pushOnce(out, value);
        continue;
      }
      for (const spelling of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+')]) pushOnce(out, spelling);
    }
    return out;
  }

  /** Pass 3: every known secret value, in every spelling, masked. */
  function byValue(text: string, spellings: string[]): string {
    if (spellings.length === 0) return text;
    let out = text;
    for (const spelling of spellings) if (out.includes(spelling)) out = out.split(spelling).join(REDACTED);
    return out;
  }

  const apiKeyValue = (value: string, found: Collector) => {
    const dot = value.indexOf('.');
    // A full key keeps its public part; a value without one is shown only when it is a bare public key.
    if (dot > 0) {
      found.add(value, 'apiKey');
      found.add(value.slice(dot + 1), 'apiKeySecret');
      return flat(value.slice(0, dot + 1), REDACTED);
    }
    if (/^pk_(test|live)_[A-Za-z0-9]{1,128}$/.test(value)) return value;
    found.add(value, 'apiKey');
    return REDACTED;
  };

  const cookieValue = (pairs: string, found: Collector) =>
    pairs
      .split(';')
      .map((pair) => {
        const eq = pair.indexOf('=');
        // A pair without `=` is a nameless cookie (RFC 6265bis): all of it is the value.
        if (eq < 0) {
          if (!pair.trim()) return pair;
          found.add(pair.trim(), 'cookie');
          return pair.startsWith(' ') ? ` ${REDACTED}` : REDACTED;
        }
        const name = pair.slice(0, eq).trim();
        found.add(pair.slice(eq + 1).trim(), name);
        return `${pair.slice(0, eq)}=${REDACTED}`;
      })
      .join(';');

  /** `name=value; Path=/; HttpOnly`: the value only. */
  const setCookieValue = (field: string, found: Collector) => {
    const semi = field.indexOf(';');
    const [first, rest] = semi < 0 ? [field, ''] : [field.slice(0, semi), field.slice(semi)];
    return flat(cookieValue(first, found), rest);
  };

  /** Pass 1 for one header field. */
  function headerValue(name: string, value: string, found: Collector, response: boolean): string {
    if (rules.apiKeyHeaders.has(name)) return apiKeyValue(value, found);
    if (rules.secretHeaders.has(name)) {
      found.add(value, name === 'x-sandbox-control-token' ? 'controlToken' : name);
      return REDACTED;
    }
    if (rules.csrfHeaders.has(name)) {
      if (value === '1') return value;
      found.add(value, 'csrf');
      return REDACTED;
    }
    if (!response && name === 'cookie') return cookieValue(value, found);
    if (response && name === 'set-cookie') return setCookieValue(value, found);
    // A URL in a header (the page a browser came from, a redirect) may carry a token in its query.
    if (URL_HEADERS.has(name)) return url(value, found);
    return value;
  }

  /** Every string and number under a value (a secret member's value may be an array or object). */
  function addAll(value: unknown, kind: string, found: Collector): void {
    if (value === null || value === undefined) return;
    if (typeof value === 'object') {
      for (const item of Array.isArray(value) ? value : Object.values(value)) addAll(item, kind, found);
    } else {
      found.add(String(value), kind);
    }
  }

  /**
   * Pass 1 for a JSON value: a secret member's whole value (whatever its type, at any depth)
   * becomes a marker naming its shell variable (`markers`), or `[redacted]`; a string holding
   * JSON that names a secret member is redacted as JSON too.
   */
  function jsonMembers(node: unknown, found: Collector, markers: boolean): unknown {
    if (Array.isArray(node)) return node.map((item) => jsonMembers(item, found, markers));
    if (typeof node === 'string') return nestedJson(node, found);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (rules.members.has(key) && value !== null && value !== undefined) {
        addAll(value, key, found);
        out[key] = markers ? marker(variableFor(key)) : REDACTED;
      } else {
        out[key] = jsonMembers(value, found, markers);
      }
    }
    return out;
  }

  /** A string that is itself JSON naming a secret member (`"note": "{\"password\": …}"`). */
  function nestedJson(text: string, found: Collector): string {
    const start = text.trimStart()[0];
    if ((start !== '{' && start !== '[') || !mightNameSecret(text)) return text;
    try {
      return JSON.stringify(jsonMembers(JSON.parse(text), found, false));
    } catch {
      return mightNameSecret(text) ? WITHHELD : text;
    }
  }

  /** Whether a text may name a secret member: it does, or an escape (`\u0070`, `%70`) could spell one. */
  const mightNameSecret = (text: string) => !!anyMember?.test(text) || text.includes('\\') || text.includes('%');

  /**
   * Pass 1 for a body: the kept text and the template copy-as-curl is built from (the same,
   * with each secret a marker naming its shell variable). A JSON body is parsed and written
   * again with its secret members replaced, so no spelling of a secret (escapes, a repeated
   * member) survives; a body that is not JSON, or too large to parse again, is kept only when
   * nothing in it could name a secret.
   */
  function body(text: string | undefined, found: Collector): { kept: string; template: string } | undefined {
    if (text === undefined || text === '') return undefined;
    if (text.length > LARGE_BODY) {
      const start = text.slice(0, MAX_KEPT_BODY + 1024);
      const kept = mightNameSecret(start) ? WITHHELD : start;
      return { kept, template: kept };
    }
    if (!mightNameSecret(text)) return { kept: text, template: text };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { kept: WITHHELD, template: WITHHELD };
    }
    const template = JSON.stringify(jsonMembers(parsed, found, true));
    return { kept: template.replace(MARKER_IN_JSON, REDACTED), template };
  }

  function url(raw: string, found: Collector): string {
    const q = raw.indexOf('?');
    if (q < 0) return raw;
    const query = raw
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 0) return pair;
        let name: string;
        try {
          name = decodeURIComponent(pair.slice(0, eq).replace(/\+/g, ' '));
        } catch {
          name = pair.slice(0, eq);
        }
        if (!rules.queryParameters.has(name) && !rules.members.has(name)) return pair;
        const value = pair.slice(eq + 1);
        found.add(value, name);
        try {
          found.add(decodeURIComponent(value.replace(/\+/g, ' ')), name);
        } catch {
          // Not percent-decodable: kept in the spelling it was sent in only.
        }
        return flat(pair.slice(0, eq + 1), REDACTED);
      })
      .join('&');
    return flat(raw.slice(0, q), '?', query);
  }

  /** Pass 1 for every field of a header map (an array value is one field each), names in lower case: a flat name, value list. */
  function headerFields(headers: Record<string, string | string[]>, found: Collector, response: boolean): string[] {
    const out: string[] = [];
    for (const key of Object.keys(headers)) {
      const value = headers[key]!;
      const name = key.toLowerCase();
      if (Array.isArray(value)) for (const v of value) out.push(name, headerValue(name, String(v), found, response));
      else out.push(name, headerValue(name, String(value), found, response));
    }
    return out;
  }

  /** Passes 2 and 3 on every field's value (a list of this exchange's own making: changed in place). */
  function cleanFields(fields: string[], spellings: string[]): string[] {
    for (let i = 1; i < fields.length; i += 2) fields[i] = cleanText(fields[i]!, spellings);
    return fields;
  }

  function kept(text: string | undefined, original: string | undefined): KeptBody | null {
    if (text === undefined || original === undefined || original === '') return null;
    const truncated = text.length > MAX_KEPT_BODY || original.length > LARGE_BODY;
    // A cut is a copy: a slice would keep the whole body it was cut from (up to 1 MiB, secrets past the cut included).
    return { text: truncated ? copyOf(text.slice(0, MAX_KEPT_BODY)) : text, bytes: Buffer.byteLength(original), truncated };
  }

  /**
   * The exchange's URL, header fields and bodies without a secret, and the secrets found
   * (value → shell variable) for copy-as-curl. The placeholders hold secrets: never keep them.
   */
  function redact(exchange: Exchange): { url: string; request: PackedMessage; response: PackedMessage; requestBodyTemplate: string | undefined; found: Found } {
    const found = new Collector();
    const requestHeaders = headerFields(exchange.request.headers, found, false);
    const responseHeaders = headerFields(exchange.response.headers, found, true);
    const rawUrl = url(exchange.url, found);
    const requestBody = body(exchange.request.body, found);
    const responseBody = body(exchange.response.body, found);
    const placeholders = found.placeholders();
    const spellings = spellingsOf(placeholders);
    return {
      url: cleanText(rawUrl, spellings),
      request: { fields: cleanFields(requestHeaders, spellings), body: kept(requestBody && cleanText(requestBody.kept, spellings), exchange.request.body) },
      response: { fields: cleanFields(responseHeaders, spellings), body: kept(responseBody && cleanText(responseBody.kept, spellings), exchange.response.body) },
      requestBodyTemplate: requestBody?.template,
      found: { placeholders, spellings },
    };
  }

  /** Passes 2 and 3 on any text, with the spellings an exchange's redaction found: what copy-as-curl leaves literal goes through them too. */
  const cleanText = (text: string, spellings: string[]) => byValue(byShape(text), spellings);

  return { redact, clean: cleanText };
}

export type Redactor = ReturnType<typeof createRedactor>;
