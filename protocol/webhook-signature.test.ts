// The signature scheme against vectors computed outside this code (`openssl dgst -sha256
// -hmac <secret>` over `<timestamp>.<body>`), and every failure reason of verify() (node:crypto)
// and verifyAsync() (Web Crypto), which share one table.
import { describe, expect, it } from 'vitest';
import { parseSignatureHeader, sign, signatureHeader, verify, verifyAsync } from './webhook-signature.ts';
import { equalBytes } from './webhook-verification.ts';

const SECRET = 'whsec_5WbX2p7QkN4rT9vL1mZ8cH3jF6dS0aYe';
const NEW_SECRET = 'whsec_Q8nR3tV6xZ1bD4fH7jL0mP2sU5wY9aCe';
const TS = 1780315200;
const BODY = '{"id":"evt_1a2B3c4D5e6F","type":"delta.recorded"}';
// printf '%s' '1780315200.<BODY>' | openssl dgst -sha256 -hmac '<secret>'
const OPENSSL_OLD = 'e47f75ed0fb3dccf26d959c59dab382b7cff8f97cb4045c34e7f367367ddeb1c';
const OPENSSL_NEW = 'b1dee4e5530eb0e7d677bd0f78c9fefe3613da2e964598bdd0cf8a0ab8547b4c';
const NOW = TS * 1000 + 1_500;

const headersOf = (signature: string, timestamp: number | string = TS) => ({
  'X-PacSpace-Signature': signature,
  'X-PacSpace-Timestamp': String(timestamp),
});

describe('sign and signatureHeader', () => {
  it('match openssl: HMAC-SHA256, key = the secret with whsec_, message = timestamp.body, lowercase hex', () => {
    expect(sign(SECRET, TS, BODY)).toBe(OPENSSL_OLD);
    expect(sign(NEW_SECRET, TS, BODY)).toBe(OPENSSL_NEW);
    // The body is signed as UTF-8 bytes.
    expect(sign(SECRET, TS, '{"note":"café ✓"}')).toBe('147b56a9cc2b7a1c5140e2ddbdb937ecfcf4f768b514014eaee361cc6c113c83');
  });

  it('writes one v1 value per secret, in the order given', () => {
    expect(signatureHeader([SECRET], TS, BODY)).toBe(`v1=${OPENSSL_OLD}`);
    const both = signatureHeader([NEW_SECRET, SECRET], TS, BODY);
    expect(both).toBe(`v1=${OPENSSL_NEW},v1=${OPENSSL_OLD}`);
    expect(both).toMatch(/^v1=[0-9a-f]{64}(,v1=[0-9a-f]{64})*$/);
    expect(() => signatureHeader([], TS, BODY)).toThrow();
  });

  it('parses v1 values and ignores other schemes', () => {
    expect(parseSignatureHeader(`v0=abc, v1=${OPENSSL_NEW},v2=def,v1=${OPENSSL_OLD}`)).toEqual([OPENSSL_NEW, OPENSSL_OLD]);
  });
});

// The node:crypto verifier and the Web Crypto one share everything but the HMAC: one table.
const verifiers = [
  ['verify (node:crypto)', verify],
  ['verifyAsync (Web Crypto)', verifyAsync],
] as const;

describe.each(verifiers)('%s', (_name, check) => {
  it('accepts a delivery signed with the secret, within the tolerance, with any header casing', async () => {
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD}`), [SECRET], { now: NOW })).toEqual({ ok: true, timestamp: TS, secretIndex: 0 });
    const lower = { 'x-pacspace-signature': `v1=${OPENSSL_OLD}`, 'x-pacspace-timestamp': String(TS) };
    expect((await check(BODY, lower, [SECRET], { now: NOW })).ok).toBe(true);
    expect((await check(BODY, new Headers(lower), [SECRET], { now: NOW })).ok).toBe(true);
  });

  it('during a rotation, either secret verifies the two-signature header', async () => {
    const header = headersOf(`v1=${OPENSSL_NEW},v1=${OPENSSL_OLD}`);
    expect(await check(BODY, header, [NEW_SECRET], { now: NOW })).toMatchObject({ ok: true, secretIndex: 0 });
    expect(await check(BODY, header, [SECRET], { now: NOW })).toMatchObject({ ok: true, secretIndex: 0 });
    expect(await check(BODY, header, ['whsec_someOtherSecret0000000000000000', SECRET], { now: NOW })).toMatchObject({ ok: true, secretIndex: 1 });
  });

  it('reports a missing header', async () => {
    expect(await check(BODY, { 'X-PacSpace-Timestamp': String(TS) }, [SECRET], { now: NOW })).toEqual({
      ok: false,
      reason: 'missing_header',
      header: 'X-PacSpace-Signature',
    });
    expect(await check(BODY, { 'X-PacSpace-Signature': `v1=${OPENSSL_OLD}` }, [SECRET], { now: NOW })).toEqual({
      ok: false,
      reason: 'missing_header',
      header: 'X-PacSpace-Timestamp',
    });
  });

  it('reports a malformed header', async () => {
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD}`, '17803152OO'), [SECRET], { now: NOW })).toMatchObject({ ok: false, reason: 'malformed_header' });
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD}`, '-5'), [SECRET], { now: NOW })).toMatchObject({ ok: false, reason: 'malformed_header' });
    expect(await check(BODY, headersOf(`v0=${OPENSSL_OLD}`), [SECRET], { now: NOW })).toMatchObject({ ok: false, reason: 'malformed_header' });
  });

  it('reports a bad signature: wrong secret, changed body, changed timestamp, truncated or uppercase value', async () => {
    const bad = { ok: false, reason: 'bad_signature' };
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD}`), [NEW_SECRET], { now: NOW })).toEqual(bad);
    expect(await check(BODY.replace('delta', 'Delta'), headersOf(`v1=${OPENSSL_OLD}`), [SECRET], { now: NOW })).toEqual(bad);
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD}`, TS + 1), [SECRET], { now: NOW })).toEqual(bad);
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD.slice(0, 63)}`), [SECRET], { now: NOW })).toEqual(bad);
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD.toUpperCase()}`), [SECRET], { now: NOW })).toEqual(bad);
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD}`), [], { now: NOW })).toEqual(bad);
  });

  it('reports a timestamp more than 300 s old or ahead, and honours a custom tolerance', async () => {
    const at = (seconds: number) => check(BODY, headersOf(`v1=${OPENSSL_OLD}`), [SECRET], { now: (TS + seconds) * 1000 });
    expect((await at(300)).ok).toBe(true);
    expect((await at(-300)).ok).toBe(true);
    expect(await at(301)).toEqual({ ok: false, reason: 'timestamp_too_old' });
    expect(await at(-301)).toEqual({ ok: false, reason: 'timestamp_too_new' });
    expect(await check(BODY, headersOf(`v1=${OPENSSL_OLD}`), [SECRET], { now: (TS + 61) * 1000, toleranceSeconds: 60 })).toEqual({
      ok: false,
      reason: 'timestamp_too_old',
    });
  });

  it('verifies the raw bytes of a body as well as its text', async () => {
    const text = '{"note":"café ✓"}';
    const header = headersOf('v1=147b56a9cc2b7a1c5140e2ddbdb937ecfcf4f768b514014eaee361cc6c113c83');
    expect(await check(text, header, [SECRET], { now: NOW })).toMatchObject({ ok: true });
    expect(await check(new TextEncoder().encode(text), header, [SECRET], { now: NOW })).toMatchObject({ ok: true });
    expect(await check(new TextEncoder().encode(text.normalize('NFD')), header, [SECRET], { now: NOW })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('signs what it verifies', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const header = signatureHeader([NEW_SECRET, SECRET], ts, BODY);
    expect((await check(BODY, headersOf(header, ts), [SECRET])).ok).toBe(true);
  });
});

describe('equalBytes', () => {
  it('is true only for the same bytes, whatever differs and wherever', () => {
    const a = Uint8Array.from([1, 2, 3, 4]);
    expect(equalBytes(Uint8Array.from([1, 2, 3, 4]), a)).toBe(true);
    expect(equalBytes(Uint8Array.from([0, 2, 3, 4]), a)).toBe(false);
    expect(equalBytes(Uint8Array.from([1, 2, 3, 5]), a)).toBe(false);
    expect(equalBytes(Uint8Array.from([1, 2, 3]), a)).toBe(false);
    expect(equalBytes(Uint8Array.from([1, 2, 3, 4, 0]), a)).toBe(false);
    expect(equalBytes(new Uint8Array(0), a)).toBe(false);
    expect(equalBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
