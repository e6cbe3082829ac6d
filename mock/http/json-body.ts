// A request body read as the contract's JSON: application/json (or a +json type) only, UTF-8,
// valid JSON, not `null`, and I-JSON (RFC 7493: no lone surrogate in any string). Each refusal
// is the problem the client gets; a parser's message is never quoted (it echoes the body,
// which may hold a secret).
import { fail, MAX_VIOLATIONS, type ProblemError } from './problem.ts';

export type ParsedBody = { body: unknown; raw: string | undefined };

/** Strict UTF-8 (invalid bytes throw); one decoder for every request (decode without `stream` keeps no state). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body parsed, or the problem it is refused with. No body (or an empty one) is `undefined`. */
export function parseJsonBody(raw: Buffer | undefined, contentType: string | undefined): ParsedBody | ProblemError {
  if (!raw || raw.length === 0) return { body: undefined, raw: undefined };
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(media)) return fail('unsupported_media_type');
  let text: string;
  let body: unknown;
  try {
    text = utf8.decode(raw);
    body = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    return fail('invalid_json', `The request body is not valid JSON${position ? ` (at position ${position})` : ''}.`);
  }
  // `null` is a body, not the absence of one: it must not pass as "no body".
  if (body === null) {
    return fail('validation_failed', 'The request body is null; send an object, or no body where it is optional.', {
      validation: [{ location: ['body'], severity: 'Error', code: 'type', message: 'must be object' }],
    });
  }
  // Well-formed UTF-8 carries no lone surrogate: only a \uD800-\uDFFF escape can make one, so
  // without such an escape there is nothing to walk.
  if (/\\u[dD][89a-fA-F]/.test(text)) {
    const { validation, omitted } = loneSurrogates(body);
    if (validation.length) {
      return fail('validation_failed', 'A string in the request body holds a lone UTF-16 surrogate, which I-JSON forbids.', {
        validation,
        ...(omitted ? { violationsOmitted: omitted } : {}),
      });
    }
  }
  return { body, raw: text };
}

type Violation = { location: string[]; severity: 'Error'; code: string; message: string };

/**
 * Where strings hold a lone surrogate (a member name: at its object): the first
 * MAX_VIOLATIONS, and how many more. Iterative, with the path built only for a listed find: a
 * 1 MiB body may nest half a million levels deep.
 */
function loneSurrogates(body: unknown): { validation: Violation[]; omitted: number } {
  type At = { key: string; parent: At } | undefined;
  const locationOf = (at: At) => {
    const keys: string[] = [];
    for (let a = at; a; a = a.parent) keys.push(a.key);
    return ['body', ...keys.reverse()];
  };
  const lone = /\p{Cs}/u; // with the u flag a surrogate pair is one code point, never Cs
  const found: Violation[] = [];
  let omitted = 0;
  const add = (at: At, message: string) => {
    if (found.length < MAX_VIOLATIONS) found.push({ location: locationOf(at), severity: 'Error', code: 'i-json', message });
    else omitted++;
  };
  const stack: Array<[unknown, At]> = [[body, undefined]];
  while (stack.length) {
    const [node, at] = stack.pop()!;
    if (typeof node === 'string') {
      if (lone.test(node)) add(at, 'must not contain a lone UTF-16 surrogate');
    } else if (node && typeof node === 'object') {
      const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, value] = entries[i]!;
        if (!Array.isArray(node) && lone.test(key)) {
          add(at, 'must not have a member name with a lone UTF-16 surrogate');
        } else if ((value !== null && typeof value === 'object') || typeof value === 'string') {
          stack.push([value, { key, parent: at }]);
        }
      }
    }
  }
  return { validation: found, omitted };
}
