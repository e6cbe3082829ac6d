// Copy-as-curl: an exchange's request as one POSIX shell command that sends it again to the
// listener it arrived on. Each secret the redaction found is a named shell variable
// (`"$PACSPACE_API_KEY"`), so the command runs as is once the variables are set, and whatever
// stays literal is cleaned as the kept exchange is (nothing secret-shaped survives). The same
// technique as the conformance reports' curl commands (conformance/report/curl.ts).
import type { Exchange } from '../http/exchange.ts';
import { MARKER_IN_JSON, MAX_KEPT_BODY, WITHHELD, type Placeholder } from './redact.ts';

/** Header fields curl adds itself, or that describe the connection rather than the request. */
const LEFT_OUT = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'accept-encoding', 'user-agent', 'accept-language', 'te', 'upgrade', 'expect']);

type Part = { text: string } | { variable: string };

/** Every spelling of each secret value that may occur in text, longest first. */
function spellings(placeholders: Placeholder[]): Placeholder[] {
  const out: Placeholder[] = [];
  for (const { value, name } of placeholders) {
    const forms = /^[A-Za-z0-9_.!~*'()-]*$/.test(value) ? [value] : new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
    for (const spelling of forms) out.push({ value: spelling, name });
  }
  return out.sort((a, b) => b.value.length - a.value.length);
}

function split(text: string, placeholders: Placeholder[]): Part[] {
  // Most words hold no secret: nothing to split.
  if (!placeholders.some((p) => text.includes(p.value))) return [{ text }];
  let parts: Part[] = [{ text }];
  for (const p of placeholders) {
    parts = parts.flatMap((part): Part[] => {
      if (!('text' in part) || !part.text.includes(p.value)) return [part];
      const pieces = part.text.split(p.value);
      return pieces.flatMap((piece, i): Part[] => [...(piece ? [{ text: piece }] : []), ...(i < pieces.length - 1 ? [{ variable: p.name }] : [])]);
    });
  }
  return parts;
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

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export type CurlInput = {
  exchange: Exchange;
  /** The listener's base URL (`http://127.0.0.1:4011`). */
  baseUrl: string;
  placeholders: Placeholder[];
  /**
   * The request body as the redaction wrote it again (./redact.ts): each secret member a marker
   * naming its shell variable. Never the body as sent, whose spellings of a secret (escapes, a
   * repeated member) the redaction does not chase.
   */
  bodyTemplate: string | undefined;
  /** Cleans literal text as the kept exchange is cleaned. */
  clean: (text: string) => string;
};

export function curlCommand({ exchange, baseUrl, placeholders, bodyTemplate, clean }: CurlInput): string {
  const all = spellings(placeholders);
  const word = (text: string) => {
    const parts = markers(text).flatMap((part) => ('text' in part ? split(part.text, all) : [part]));
    if (parts.length === 0) return "''";
    return parts.map((p) => ('variable' in p ? `"$${p.variable}"` : quote(clean(p.text)))).join('');
  };
  const method = exchange.method.toUpperCase();
  const body = exchange.request.body;
  const words = ['curl'];
  if (method !== 'GET' || (body !== undefined && body !== '')) words.push('-X', method === 'HEAD' ? 'HEAD' : method);
  words.push(word(`${baseUrl}${exchange.url}`));
  for (const [name, value] of Object.entries(exchange.request.headers)) {
    const lower = name.toLowerCase();
    if (LEFT_OUT.has(lower) || lower.startsWith('sec-') || (lower === 'accept' && value === '*/*')) continue;
    words.push('-H', word(`${lower}: ${value}`));
  }
  let comment = '';
  if (body !== undefined && body !== '') {
    const template = bodyTemplate ?? '';
    if (template.length > MAX_KEPT_BODY || template === WITHHELD) {
      comment = `# the request body was ${Buffer.byteLength(body)} bytes; only what the inspector kept of it is sent\n`;
    }
    words.push('--data-binary', word(template.length > MAX_KEPT_BODY ? template.slice(0, MAX_KEPT_BODY) : template));
  }
  return comment + words.join(' ');
}
