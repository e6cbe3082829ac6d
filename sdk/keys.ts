// API key grammar and environment routing. The key prefix decides the environment
// (pk_test_ → Sandbox, pk_live_ → Production) and so the base URL. Every error here is
// thrown at construction, before a request, and never contains any part of the key.
import { ConfigurationError } from './errors.ts';

export type KeyEnvironment = 'test' | 'live';

/** Production Balance API and Dashboard API. */
export const PRODUCTION_URL = 'https://app.pacspace.io';
/**
 * The Sandbox URL used when none is given: the contract's `https://{sandboxHost}` server with
 * its default host. Your account's Sandbox URL is the `apiBaseUrl` of the `testnet` entry of
 * `GET /dashboard/environments`; pass it as `sandboxUrl` if it differs.
 */
export const DEFAULT_SANDBOX_URL = 'https://sandbox.pacspace.io';

const KEY_GRAMMAR = /^pk_(test|live)_([A-Za-z0-9]+)\.sk_(test|live)_([A-Za-z0-9]+)$/;

export type ParsedKey = {
  environment: KeyEnvironment;
  /** `pk_{env}_{publicId}`: the public half, safe to log. */
  publicKey: string;
  /** `sk_{env}_{secret}`: never log it. */
  secretKey: string;
};

const GRAMMAR_TEXT = 'pk_{test|live}_{publicId}.sk_{test|live}_{secret} (publicId and secret base62, both environments equal)';

/** Parses a full API key; throws a `ConfigurationError` that names the problem, never the key. */
export function parseApiKey(apiKey: unknown): ParsedKey {
  const fail = (why: string) =>
    new ConfigurationError({ code: 'invalid_api_key', detail: `PacSpace: the apiKey ${why}. Expected ${GRAMMAR_TEXT}.` });
  if (typeof apiKey !== 'string' || apiKey.length === 0) throw fail('is missing (pass the full key from the dashboard)');
  if (apiKey.trim() !== apiKey) throw fail('has leading or trailing whitespace');
  const match = KEY_GRAMMAR.exec(apiKey);
  if (!match) {
    if (!/^pk_(test|live)_/.test(apiKey)) throw fail('does not start with pk_test_ or pk_live_');
    if (!apiKey.includes('.')) throw fail('has no "." between its public and secret halves (send the full key)');
    throw fail('is malformed');
  }
  const [, environment, publicId, secretEnvironment] = match as unknown as [string, KeyEnvironment, string, KeyEnvironment];
  if (secretEnvironment !== environment) throw fail('mixes environments: its public and secret halves name different ones');
  const dot = apiKey.indexOf('.');
  return { environment, publicKey: `pk_${environment}_${publicId}`, secretKey: apiKey.slice(dot + 1) };
}

/** `origin + path` without a trailing slash; throws for anything that is not an http(s) base URL. */
export function normalizeBaseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError({ code: 'invalid_configuration', detail: `PacSpace: ${name} is not a valid URL.` });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError({ code: 'invalid_configuration', detail: `PacSpace: ${name} must be an http(s) URL.` });
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigurationError({ code: 'invalid_configuration', detail: `PacSpace: ${name} must not have a query, fragment or credentials.` });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export type EndpointOptions = {
  /** Overrides the Balance API base URL; it must belong to the key's environment (see below). */
  baseUrl?: string | undefined;
  /** Your Sandbox URL (default `https://sandbox.pacspace.io`): where pk_test_ keys go. */
  sandboxUrl?: string | undefined;
  /** The Production URL (default `https://app.pacspace.io`): where pk_live_ keys go. Set it only for a local sandbox. */
  productionUrl?: string | undefined;
};

/**
 * The Balance API base URL for a key of `environment`.
 *
 * The SDK knows one URL per environment: the Sandbox URL (`sandboxUrl`, default
 * `https://sandbox.pacspace.io`) and the Production URL (`productionUrl`, default
 * `https://app.pacspace.io`, which is always Production). A key goes to its environment's URL.
 * `baseUrl` may replace it, but a **mismatch** fails at construction:
 * - `baseUrl` is a URL of the other environment (a pk_test_ key at the Production URL, or a
 *   pk_live_ key at the Sandbox URL): the API would answer 401 to every call;
 * - `baseUrl` and the explicitly given URL of the key's own environment differ (for a pk_test_
 *   key, `baseUrl` must then equal `sandboxUrl`; for a pk_live_ key, `productionUrl`);
 * - `sandboxUrl` and `productionUrl` are the same URL.
 */
export function resolveBalanceUrl(environment: KeyEnvironment, options: EndpointOptions): string {
  const given = {
    base: options.baseUrl === undefined ? undefined : normalizeBaseUrl('baseUrl', options.baseUrl),
    sandbox: options.sandboxUrl === undefined ? undefined : normalizeBaseUrl('sandboxUrl', options.sandboxUrl),
    production: options.productionUrl === undefined ? undefined : normalizeBaseUrl('productionUrl', options.productionUrl),
  };
  const sandbox = given.sandbox ?? DEFAULT_SANDBOX_URL;
  const production = given.production ?? PRODUCTION_URL;
  const mismatch = (detail: string) => new ConfigurationError({ code: 'environment_mismatch', detail: `PacSpace: ${detail}` });
  if (sandbox === production || sandbox === PRODUCTION_URL) {
    throw mismatch('sandboxUrl must differ from the Production URL; each environment has its own base URL.');
  }
  const isTest = environment === 'test';
  const own = isTest ? sandbox : production;
  const ownGiven = isTest ? given.sandbox : given.production;
  const others = isTest ? [production, PRODUCTION_URL] : [sandbox, DEFAULT_SANDBOX_URL];
  const keyKind = isTest ? 'a pk_test_ (Sandbox) key' : 'a pk_live_ (Production) key';
  if (given.base !== undefined) {
    if (others.includes(given.base)) {
      throw mismatch(`baseUrl is the ${isTest ? 'Production' : 'Sandbox'} URL, but the client has ${keyKind}. Never mix environments: use the ${isTest ? 'Sandbox' : 'Production'} URL or a ${isTest ? 'pk_live_' : 'pk_test_'} key.`);
    }
    if (ownGiven !== undefined && ownGiven !== given.base) {
      throw mismatch(`baseUrl and ${isTest ? 'sandboxUrl' : 'productionUrl'} differ; for ${keyKind} baseUrl must be the ${isTest ? 'Sandbox' : 'Production'} URL (give one of them).`);
    }
    return given.base;
  }
  return own;
}
