// The SDK's main entry must run unchanged on Node, Bun, Deno, browsers and edge runtimes, so
// its static import graph (the SDK, protocol/ and openapi-fetch, as esbuild bundles it for
// `platform: 'neutral'`) may not reach a Node built-in; sdk/node.ts, the Node entry, is the one
// module allowed to import node:crypto. Then the bundle runs in a bare V8 context holding only
// Web globals (no Buffer, process or require), like an edge isolate: webhook verification,
// the client's inspection hook and emit's Idempotency-Key must work there.
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { build, type Metafile, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { signatureHeader } from '../protocol/webhook-signature.ts';

const ROOT = join(import.meta.dirname, '..');
const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const isBuiltin = (path: string) => path.startsWith('node:') || BUILTINS.has(path) || BUILTINS.has(path.split('/')[0]!);

/** Leaves Node built-ins unresolved (external), so the metafile lists who imports them. */
const builtinsExternal: Plugin = {
  name: 'node-builtins-external',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (isBuiltin(args.path) ? { path: args.path, external: true } : undefined));
  },
};

async function bundle(entry: string, format: 'esm' | 'iife' = 'esm') {
  return build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'neutral',
    format,
    ...(format === 'iife' ? { globalName: 'sdk' } : {}),
    logLevel: 'silent',
    plugins: [builtinsExternal],
  });
}

/** Every import of a Node built-in in the graph, as `importer → module`. */
function builtinImports(metafile: Metafile): string[] {
  return Object.entries(metafile.inputs).flatMap(([file, input]) =>
    input.imports.filter((i) => i.external && isBuiltin(i.path)).map((i) => `${file} → ${i.path} (${i.kind})`),
  );
}

describe('the import graph', () => {
  it('sdk/index.ts reaches no Node built-in, through the SDK, protocol/ or a dependency', async () => {
    const { metafile } = await bundle('sdk/index.ts');
    expect(builtinImports(metafile)).toEqual([]);
    // The walk did reach the modules that used to import node: ones.
    expect(Object.keys(metafile.inputs)).toEqual(
      expect.arrayContaining(['sdk/client.ts', 'sdk/cookies.ts', 'sdk/dashboard.ts', 'sdk/webhooks.ts', 'protocol/webhook-verification.ts']),
    );
    expect(Object.keys(metafile.inputs).some((f) => f.includes('node_modules/openapi-fetch/'))).toBe(true);
  });

  it('the bundled main entry names no Node global that a bare runtime lacks', async () => {
    const text = (await bundle('sdk/index.ts')).outputFiles[0]!.text;
    expect(text.match(/\bBuffer\b|\brequire\(|\b__dirname\b|\bsetImmediate\b/g) ?? []).toEqual([]);
  });

  it('sdk/node.ts is the only module that imports node:crypto, and imports nothing else of Node', async () => {
    const { metafile } = await bundle('sdk/node.ts');
    expect(builtinImports(metafile)).toEqual(['sdk/node.ts → node:crypto (import-statement)']);
    expect(Object.keys(metafile.inputs)).toContain('sdk/index.ts');
  });
});

describe('the main entry in a bare V8 context with Web globals only', () => {
  const NOW = 1_780_315_200_000;
  const T = NOW / 1000;
  const SECRET = 'whsec_0123456789abcdefghijABCDEFGHIJ01';
  const body = JSON.stringify({ id: 'evt_1a2B3c4D5e6F', type: 'delta.recorded', createdAt: '2026-06-01T12:00:00.000Z', environment: 'test', data: { receiptId: 'rcpt_1' } });

  async function load() {
    const code = (await bundle('sdk/index.ts', 'iife')).outputFiles[0]!.text;
    // What a Web-standard runtime (WinterTC's minimum common API) offers; nothing of Node's.
    const web = { crypto, TextEncoder, TextDecoder, Headers, Request, Response, FormData, Blob, ReadableStream, URL, URLSearchParams, AbortController, AbortSignal, DOMException, setTimeout, clearTimeout, queueMicrotask, structuredClone, atob, btoa, console };
    const context = createContext({ ...web });
    runInContext(`${code}\nglobalThis.sdk = sdk;`, context);
    expect(runInContext('[typeof Buffer, typeof process, typeof require]', context)).toEqual(['undefined', 'undefined', 'undefined']);
    return { context, sdk: context.sdk as typeof import('./index.ts') };
  }

  it('verifies deliveries with Web Crypto: accepts a signed one, rejects a tampered, stale or wrongly signed one', async () => {
    const { context, sdk } = await load();
    const headers = { 'X-PacSpace-Timestamp': String(T), 'X-PacSpace-Signature': signatureHeader(['whsec_next0000000000000000000000000000', SECRET], T, body) };
    expect(await sdk.verifyWebhook(body, headers, SECRET, { now: NOW })).toMatchObject({ type: 'delta.recorded' });
    // Bytes made in the context's own realm, whose Uint8Array is not the host's.
    const bytes = runInContext(`new TextEncoder().encode(${JSON.stringify(body)}).slice()`, context);
    expect(await sdk.verifyWebhook(bytes, headers, SECRET, { now: NOW })).toMatchObject({ type: 'delta.recorded' });
    const code = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code?: string }) => e.code);
    expect(await code(sdk.verifyWebhook(body.replace('rcpt_1', 'rcpt_2'), headers, SECRET, { now: NOW }))).toBe('bad_signature');
    expect(await code(sdk.verifyWebhook(body, headers, 'whsec_wrong', { now: NOW }))).toBe('bad_signature');
    expect(await code(sdk.verifyWebhook(body, headers, SECRET, { now: NOW + 301_000 }))).toBe('timestamp_too_old');
  });

  it('a client: the inspection hook without node:util, and emit with a crypto.randomUUID() Idempotency-Key', async () => {
    const { sdk } = await load();
    const sent: Request[] = [];
    const receipt = { receiptId: 'rcpt_1', customerId: 'customer_001', delta: '1.00', status: 'recorded' };
    const fetch = async (request: Request) => {
      sent.push(request);
      return new Response(JSON.stringify({ data: receipt }), { status: 201, headers: { 'content-type': 'application/json' } });
    };
    const pac = new sdk.PacSpace({ apiKey: 'pk_test_abcdefgh12345678.sk_test_0123456789abcdefghijABCDEFGHIJ', fetch });
    const hook = (pac as unknown as Record<symbol, (depth: number, options?: unknown) => string>)[Symbol.for('nodejs.util.inspect.custom')]!;
    expect(hook.call(pac, 2)).toBe(`PacSpace { environment: 'test', baseUrl: 'https://sandbox.pacspace.io', publicKey: '${pac.publicKey}', apiKey: [redacted] }`);
    expect(await pac.balance.emit('customer_001', '1.00', 'usage')).toEqual(receipt);
    expect(sent[0]!.headers.get('idempotency-key')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
