// Exchanges as copy-pasteable, redacted curl commands. Every secret the run knows (the
// --api-key, its secret half, the --password, session cookies, created keys' and webhook
// signing secrets) becomes a shell variable — `"$PACSPACE_API_KEY"` — so the command runs as
// is once the variables are set, and anything else shaped like a secret is masked.
import type { Exchange } from '../lib/http.ts';
import type { KnownSecret } from '../lib/secrets.ts';
import { createRedactor } from './redact.ts';
import type { ReportedExchange } from './format.ts';

export type Placeholder = { value: string; name: string };

/** Headers of an answer worth showing beside its status. */
const TELLING = ['content-type', 'location', 'retry-after', 'allow', 'www-authenticate', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'idempotent-replayed', 'x-request-id'];
const MAX_BODY = 2000;

/** The placeholders of a run, longest value first (a full key before its secret half). */
export function placeholdersFor(input: { apiKey?: string; password?: string }, secrets: readonly KnownSecret[]): Placeholder[] {
  const out: Placeholder[] = [];
  const seen = new Set<string>();
  const add = (value: string | undefined, name: string) => {
    if (!value || value.length < 4 || seen.has(value)) return;
    seen.add(value);
    out.push({ value, name });
  };
  add(input.apiKey, 'PACSPACE_API_KEY');
  if (input.apiKey?.includes('.')) add(input.apiKey.slice(input.apiKey.indexOf('.') + 1), 'PACSPACE_API_SECRET');
  add(input.password, 'PACSPACE_PASSWORD');
  const counters = new Map<string, number>();
  for (const s of secrets) {
    if (seen.has(s.value)) continue;
    const base = /cookie/i.test(s.label) ? 'PACSPACE_SESSION_COOKIE' : /webhook/i.test(s.label) ? 'PACSPACE_WEBHOOK_SECRET' : /key/i.test(s.label) ? 'PACSPACE_KEY_SECRET' : 'PACSPACE_SECRET';
    const n = (counters.get(base) ?? 0) + 1;
    counters.set(base, n);
    add(s.value, `${base}_${n}`);
  }
  return out.sort((a, b) => b.value.length - a.value.length);
}

type Part = { text: string } | { variable: string };

/** `text` cut into literal parts and placeholders. */
function split(text: string, placeholders: readonly Placeholder[]): Part[] {
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

const mask = createRedactor([]);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One shell word: literal parts single-quoted (secret-shaped text masked), placeholders as "$NAME". */
export function shellWord(text: string, placeholders: readonly Placeholder[]): string {
  const parts = split(text, placeholders);
  if (parts.length === 0) return "''";
  return parts.map((p) => ('variable' in p ? `"$${p.variable}"` : quote(mask(p.text)))).join('');
}

/** Plain text with placeholders as $NAME and secret-shaped text masked (for showing, not running). */
export function redactText(text: string, placeholders: readonly Placeholder[]): string {
  return split(text, placeholders)
    .map((p) => ('variable' in p ? `$${p.variable}` : mask(p.text)))
    .join('');
}

/** The exchange as a curl command (a body over 4 KiB is cut, and says so). */
export function curlOf(ex: Exchange, placeholders: readonly Placeholder[]): string {
  const lines: string[] = [];
  const head = ['curl', '-i'];
  if (ex.method !== 'GET' || ex.requestBody !== undefined) head.push('-X', ex.method);
  head.push(shellWord(ex.url, placeholders));
  lines.push(head.join(' '));
  for (const [name, value] of Object.entries(ex.requestHeaders)) lines.push(`-H ${shellWord(`${name}: ${value}`, placeholders)}`);
  let comment = '';
  if (ex.requestBody !== undefined) {
    let body = ex.requestBody;
    if (body.length > 4096) {
      comment = `# the request body was ${body.length} bytes; only the first 1000 are shown\n`;
      body = body.slice(0, 1000);
    }
    lines.push(`--data-binary ${shellWord(body, placeholders)}`);
  }
  return comment + lines.join(' \\\n  ');
}

/** What came back: the status, the telling headers, and the start of the body, redacted. */
export function responseOf(ex: Exchange, placeholders: readonly Placeholder[]): string {
  const headers = TELLING.filter((h) => ex.headers[h] !== undefined).map((h) => `${h}: ${ex.headers[h]}`);
  for (const c of ex.setCookies) headers.push(`set-cookie: ${c}`);
  const body = ex.text.length > MAX_BODY ? `${ex.text.slice(0, MAX_BODY)}… (${ex.text.length} characters)` : ex.text;
  return redactText([`HTTP ${ex.status}`, ...headers, '', body].join('\n').trimEnd(), placeholders);
}

/** The exchange as the report shows it. */
export const reportExchange = (ex: Exchange, placeholders: readonly Placeholder[]): ReportedExchange => ({
  id: ex.id,
  method: ex.method,
  url: redactText(ex.url, placeholders),
  status: ex.status,
  curl: curlOf(ex, placeholders),
  response: responseOf(ex, placeholders),
});
