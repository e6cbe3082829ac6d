// Copy-as-curl: an exchange's request as one POSIX shell command that sends it again to the
// listener it arrived on. Each secret the redaction found is a named shell variable
// (`"$PACSPACE_API_KEY"`), so the command runs as is once the variables are set, and whatever
// stays literal is cleaned as the kept exchange is (nothing secret-shaped survives). The same
// technique as the conformance reports' curl commands (conformance/report/curl.ts).
import type { Exchange } from '../http/exchange.ts';
import { longestFirst, MARKER_IN_JSON, MAX_KEPT_BODY, WITHHELD, type Placeholder } from './redact.ts';

/** Header fields curl adds itself, or that describe the connection rather than the request. */
const LEFT_OUT = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'accept-encoding', 'user-agent', 'accept-language', 'te', 'upgrade', 'expect']);

type Part = { text: string } | { variable: string };

/** Every spelling of each secret value that may occur in text, longest first. */
function spellings(placeholders: Placeholder[]): Placeholder[] {
  if (placeholders.length === 0) return placeholders;
  const out: Placeholder[] = [];
  for (const { value, name } of placeholders) {
    const forms = /^[A-Za-z0-9_.!~*'()-]*$/.test(value) ? [value] : new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
    for (const spelling of forms) out.push({ value: spelling, name });
  }
  return longestFirst(out);
}

/** Whether a text holds any spelling of a secret. */
function holdsAny(text: string, placeholders: Placeholder[]): boolean {
  for (const p of placeholders) if (text.includes(p.value)) return true;
  return false;
}

/**
 * Literal text as shell words: each spelling of a secret (from `all[from]` on, longest first)
 * a variable, the text around it cleaned and quoted. Written straight to one string: this runs
 * for every kept request that sent a secret.
 */
function literal(text: string, all: Placeholder[], from: number, input: CurlInput): string {
  for (let k = from; k < all.length; k++) {
    const { value, name } = all[k]!;
    let at = text.indexOf(value);
    if (at < 0) continue;
    let out = '';
    let start = 0;
    while (at >= 0) {
      if (at > start) out += literal(text.slice(start, at), all, k + 1, input);
      out += `"$${name}"`;
      start = at + value.length;
      at = text.indexOf(value, start);
    }
    if (start < text.length) out += literal(text.slice(start), all, k + 1, input);
    return out;
  }
  return text === '' ? '' : quote(input.clean(text, input.spellings));
}

/** A body template's secret markers (./redact.ts) as variables, the rest as text. */
function markers(text: string): Part[] {
  if (!text.includes('\\u0001')) return [{ text }];
  const parts: Part[] = [];
  let at = 0;
  for (const m of text.matchAll(MARKER_IN_JSON)) {
    if (m.index! > at) parts.push({ text: text.slice(at, m.index) });
    parts.push({ variable: m[1]! });
    at = m.index! + m[0].length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

const quote = (s: string) => (s.includes("'") ? `'${s.replace(/'/g, `'\\''`)}'` : `'${s}'`);

export type CurlInput = {
  exchange: Exchange;
  /** The listener's base URL (`http://127.0.0.1:4011`). */
  baseUrl: string;
  placeholders: Placeholder[];
  /** Every spelling of those secrets, as the redaction masks them. */
  spellings: string[];
  /**
   * The request body as the redaction wrote it again (./redact.ts): each secret member a marker
   * naming its shell variable. Never the body as sent, whose spellings of a secret (escapes, a
   * repeated member) the redaction does not chase.
   */
  bodyTemplate: string | undefined;
  /** Cleans literal text as the kept exchange is cleaned (the redactor's `clean`, with `spellings`). */
  clean: (text: string, spellings: string[]) => string;
};

/** One shell word: each secret a variable, the rest cleaned and quoted. */
function word(text: string, input: CurlInput, all: Placeholder[]): string {
  // Most words hold neither a marker nor a secret: one quoted piece.
  if (!text.includes('\\u0001') && !holdsAny(text, all)) return quote(input.clean(text, input.spellings));
  let out = '';
  for (const marked of markers(text)) out += 'variable' in marked ? `"$${marked.variable}"` : literal(marked.text, all, 0, input);
  return out === '' ? "''" : out;
}

export function curlCommand(input: CurlInput): string {
  const { exchange, baseUrl, bodyTemplate } = input;
  const all = spellings(input.placeholders);
  const method = exchange.method.toUpperCase();
  const body = exchange.request.body;
  // Joined once at the end: one flat string kept, not a tree of pieces for the collector to walk.
  const words = ['curl'];
  if (method !== 'GET' || (body !== undefined && body !== '')) words.push('-X', method === 'HEAD' ? 'HEAD' : method);
  words.push(word(`${baseUrl}${exchange.url}`, input, all));
  const headers = exchange.request.headers;
  for (const name of Object.keys(headers)) {
    const value = headers[name]!;
    const lower = name.toLowerCase();
    if (LEFT_OUT.has(lower) || lower.startsWith('sec-') || (lower === 'accept' && value === '*/*')) continue;
    words.push('-H', word(`${lower}: ${value}`, input, all));
  }
  let comment = '';
  if (body !== undefined && body !== '') {
    const template = bodyTemplate ?? '';
    if (template.length > MAX_KEPT_BODY || template === WITHHELD) {
      comment = `# the request body was ${Buffer.byteLength(body)} bytes; only what the inspector kept of it is sent\n`;
    }
    words.push('--data-binary', word(template.length > MAX_KEPT_BODY ? template.slice(0, MAX_KEPT_BODY) : template, input, all));
  }
  if (comment) words[0] = `${comment}curl`;
  return words.join(' ');
}
