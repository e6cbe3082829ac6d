// API keys (seed 001): create, list, get, regenerate, toggle, delete. Secrets are generated
// here, shown once in the create/regenerate reply, and stored only as hashes. Every change is
// announced to webhook endpoints (api_key.*) in the same commit; `data` is the key as listed,
// never its secret.
import type { components } from '../../generated/openapi.d.ts';
import { fail } from '../http/problem.ts';
import { hashSecret, randomBase62, randomId } from '../security/secrets.ts';
import type { Services } from '../services.ts';
import type { KeyEnvironment, Permission, SandboxEvent } from '../state/events.ts';
import { environmentStatus, type ApiKey, type User } from '../state/projections.ts';
import { callerOf, iso, ok, paginate, type HandlerContext, type Handlers } from './handler.ts';

type ApiKeyView = components['schemas']['ApiKey'];
type CreateBody = components['schemas']['ApiKeyCreateRequest'];

export const ALL_PERMISSIONS: Permission[] = ['balance:read', 'balance:write'];
const NETWORK_OF = { test: 'testnet', live: 'mainnet' } as const;

export function view(key: ApiKey): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    environment: key.environment,
    publicKey: `pk_${key.environment}_${key.publicId}`,
    permissions: [...key.permissions],
    active: key.active,
    createdAt: iso(key.createdAt),
    lastUsedAt: key.lastUsedAt === null ? null : iso(key.lastUsedAt),
  };
}

/** Commits a key event together with its webhook announcement, then starts the deliveries. */
async function commitAnnounced(services: Services, event: SandboxEvent, type: string, key: ApiKey, requestId?: string) {
  const announced = services.webhooks.announce({ type, tenantId: key.tenantId, environment: key.environment, data: view(key), at: event.at, ...(requestId ? { requestId } : {}) });
  await services.store.commit(event, ...announced);
  if (announced.length) services.webhooks.flush();
}

/** A new secret: `sk_{env}_` + 32 base62 characters (about 190 bits). */
function newSecret(environment: KeyEnvironment) {
  const secretKey = randomId(`sk_${environment}_`, 32);
  return { secretKey, secretHash: hashSecret(secretKey) };
}

type KeyInput = { name: string; environment: KeyEnvironment; permissions: Permission[] };

/**
 * A new key for a tenant, not committed yet: its `api_key.created` event, the key as it will
 * be listed, and its secret. The demo account's key is made with it too (mock/demo/seed-demo.ts).
 */
export function newApiKey(tenantId: string, input: KeyInput, at: number) {
  const keyId = randomId('key_', 16);
  const publicId = randomBase62(16);
  const { secretKey, secretHash } = newSecret(input.environment);
  const fields = { tenantId, environment: input.environment, name: input.name, publicId, secretHash, permissions: input.permissions };
  const event: SandboxEvent = { type: 'api_key.created', at, keyId, ...fields };
  const created: ApiKey = { id: keyId, ...fields, active: true, createdAt: at, lastUsedAt: null };
  return { event, created, keyId, secretKey, fullKey: `pk_${input.environment}_${publicId}.${secretKey}` };
}

/** Creates a key for a tenant (the dashboard's create) and announces it. */
export async function issueApiKey(services: Services, tenantId: string, input: KeyInput, requestId?: string) {
  const { event, created, keyId, secretKey, fullKey } = newApiKey(tenantId, input, services.clock.now());
  await commitAnnounced(services, event, 'api_key.created', created, requestId);
  return { key: services.store.state.apiKeys.get(keyId)!, secretKey, fullKey };
}

/** The caller's key by id; another tenant's key is indistinguishable from a missing one. */
function ownKey(ctx: HandlerContext, user: User): ApiKey {
  const key = ctx.services.store.state.apiKeys.get(ctx.params.id ?? '');
  if (!key || key.tenantId !== user.tenantId) throw fail('not_found', 'No API key with this id.');
  return key;
}

export const apiKeyHandlers: Handlers = {
  async createApiKey(ctx) {
    const { user } = callerOf(ctx, 'session');
    const body = ctx.body as CreateBody;
    if (!user.approved) throw fail('account_not_approved');
    if (!user.verified) throw fail('email_not_verified');
    const environment = body.environment ?? 'test';
    const tenant = ctx.services.store.state.tenants.get(user.tenantId)!;
    const network = NETWORK_OF[environment];
    if (environmentStatus(tenant.environments[network], ctx.services.clock.now()) !== 'active') {
      throw fail('environment_not_active', `The ${network} environment must be active before ${environment} keys can be created.`);
    }
    const { key, secretKey, fullKey } = await issueApiKey(ctx.services, user.tenantId, {
      name: body.name,
      environment,
      permissions: body.permissions ? [...new Set(body.permissions)] : ALL_PERMISSIONS,
    }, ctx.requestId);
    return ok(201, { ...view(key), secretKey, fullKey });
  },

  listApiKeys(ctx) {
    const { user } = callerOf(ctx, 'session');
    const { services } = ctx;
    // Newest first: the projection holds keys in creation order, so keys created in the same
    // millisecond keep it (reversed, then a stable sort by time).
    const keys = [...services.store.state.apiKeys.values()]
      .filter((k) => k.tenantId === user.tenantId)
      .reverse()
      .sort((a, b) => b.createdAt - a.createdAt);
    const page = paginate(keys, ctx.query);
    return ok(200, { ...page, items: page.items.map(view) });
  },

  getApiKey(ctx) {
    const { user } = callerOf(ctx, 'session');
    return ok(200, view(ownKey(ctx, user)));
  },

  async regenerateApiKey(ctx) {
    const { user } = callerOf(ctx, 'session');
    const key = ownKey(ctx, user);
    const { secretKey, secretHash } = newSecret(key.environment);
    await commitAnnounced(ctx.services, { type: 'api_key.regenerated', at: ctx.services.clock.now(), keyId: key.id, secretHash }, 'api_key.regenerated', key, ctx.requestId);
    const publicKey = `pk_${key.environment}_${key.publicId}`;
    return ok(200, { id: key.id, publicKey, secretKey, fullKey: `${publicKey}.${secretKey}` });
  },

  async toggleApiKey(ctx) {
    const { user } = callerOf(ctx, 'session');
    const key = ownKey(ctx, user);
    const active = !key.active;
    const event = { type: 'api_key.toggled', at: ctx.services.clock.now(), keyId: key.id, active } as const;
    await commitAnnounced(ctx.services, event, active ? 'api_key.enabled' : 'api_key.disabled', { ...key, active }, ctx.requestId);
    return ok(200, { id: key.id, active: key.active, message: key.active ? 'API key has been enabled.' : 'API key has been disabled.' });
  },

  async deleteApiKey(ctx) {
    const { user } = callerOf(ctx, 'session');
    const key = ownKey(ctx, user);
    await commitAnnounced(ctx.services, { type: 'api_key.deleted', at: ctx.services.clock.now(), keyId: key.id }, 'api_key.deleted', key, ctx.requestId);
    return { status: 200, body: { statusCode: 200, message: 'API key deleted successfully.' } };
  },
};
