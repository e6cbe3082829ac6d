// The in-memory read models, rebuilt from events alone (so a journal replay restores them).
// Time-dependent facts (token expiry, an environment becoming active) are stored as instants
// and judged against the clock when read, never by timers.
import type { EmailTokenKind, KeyEnvironment, Network, Permission, SandboxEvent } from './events.ts';
import { applyLedgerEvent, checkLedgerEvent, createLedgerProjection } from './ledger.ts';
import { applyWebhookEvent, checkWebhookEvent, createWebhookProjection } from './webhooks.ts';

export type User = {
  id: string;
  tenantId: string;
  email: string;
  name: string;
  role: 'owner';
  passwordHash: string;
  approved: boolean;
  verified: boolean;
  createdAt: number;
};

export type Tenant = {
  id: string;
  ownerId: string;
  /** Absent until provisioned; active once the clock passes `activeAt` (environmentStatus). */
  environments: Record<Network, { contractId: string; requestedAt: number; activeAt: number } | undefined>;
};

export type ApiKey = {
  id: string;
  tenantId: string;
  environment: KeyEnvironment;
  name: string;
  publicId: string;
  secretHash: string;
  permissions: Permission[];
  active: boolean;
  createdAt: number;
  /** The latest `api_key.used` (recorded at most once a minute: mock/domain/api-key-use.ts); null until then. */
  lastUsedAt: number | null;
};

export type Session = {
  familyId: string;
  userId: string;
  accessHash: string;
  accessExpiresAt: number;
  refreshHash: string;
  refreshExpiresAt: number;
  /** Refresh hashes already rotated out: presenting one again is theft. */
  rotated: Set<string>;
  revoked: boolean;
};

export type EmailToken = { kind: EmailTokenKind; email: string; expiresAt: number; used: boolean; superseded: boolean };

export type OutboxMessage = Omit<Extract<SandboxEvent, { type: 'outbox.sent' }>, 'type'>;

export type AccessRequest = { email: string; name: string; organization: string; requestedAt: number; approved: boolean };

export function createProjections() {
  return {
    accessRequests: new Map<string, AccessRequest>(),
    users: new Map<string, User>(),
    usersByEmail: new Map<string, User>(),
    tenants: new Map<string, Tenant>(),
    apiKeys: new Map<string, ApiKey>(),
    apiKeysByPublicId: new Map<string, ApiKey>(),
    sessions: new Map<string, Session>(),
    sessionsByAccess: new Map<string, Session>(),
    sessionsByRefresh: new Map<string, Session>(),
    emailTokens: new Map<string, EmailToken>(),
    outbox: [] as OutboxMessage[],
    ledger: createLedgerProjection(),
    webhooks: createWebhookProjection(),
    /** The latest event instant, so a restarted clock never runs backwards. */
    lastEventAt: 0,
  };
}

export type Projections = ReturnType<typeof createProjections>;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function applyEvent(s: Projections, e: SandboxEvent): void {
  if (e.at > s.lastEventAt) s.lastEventAt = e.at;
  switch (e.type) {
    case 'delta.recorded':
    case 'checkpoint.created':
      applyLedgerEvent(s.ledger, e);
      return;
    case 'webhook.endpoint.created':
    case 'webhook.endpoint.updated':
    case 'webhook.endpoint.deleted':
    case 'webhook.secret.rotated':
    case 'webhook.event.announced':
    case 'webhook.delivery.attempted':
      applyWebhookEvent(s.webhooks, e);
      return;
    case 'access.requested':
      s.accessRequests.set(normalizeEmail(e.email), {
        email: e.email,
        name: e.name,
        organization: e.organization,
        requestedAt: e.at,
        approved: s.accessRequests.get(normalizeEmail(e.email))?.approved ?? false,
      });
      return;
    case 'access.approved': {
      const request = s.accessRequests.get(normalizeEmail(e.email));
      if (request) request.approved = true;
      const user = s.usersByEmail.get(normalizeEmail(e.email));
      if (user) user.approved = true;
      return;
    }
    case 'email.token.issued':
      // A new link of a kind replaces every earlier one for the same address.
      for (const t of s.emailTokens.values()) {
        if (t.kind === e.kind && t.email === normalizeEmail(e.email)) t.superseded = true;
      }
      s.emailTokens.set(e.tokenHash, { kind: e.kind, email: normalizeEmail(e.email), expiresAt: e.expiresAt, used: false, superseded: false });
      return;
    case 'outbox.sent': {
      const { type: _type, ...message } = e;
      s.outbox.push(message);
      return;
    }
    case 'user.registered': {
      const user: User = {
        id: e.userId,
        tenantId: e.tenantId,
        email: e.email,
        name: e.name,
        role: 'owner',
        passwordHash: e.passwordHash,
        approved: e.approved,
        verified: false,
        createdAt: e.at,
      };
      s.users.set(user.id, user);
      s.usersByEmail.set(normalizeEmail(user.email), user);
      // An approved account starts with its Sandbox active.
      s.tenants.set(e.tenantId, {
        id: e.tenantId,
        ownerId: user.id,
        environments: {
          testnet: { contractId: e.contractId, requestedAt: e.at, activeAt: e.at },
          mainnet: undefined,
        },
      });
      if (e.accessTokenHash) markUsed(s, e.accessTokenHash);
      return;
    }
    case 'email.verified':
      markUsed(s, e.tokenHash);
      s.users.get(e.userId)!.verified = true;
      return;
    case 'password.reset':
      markUsed(s, e.tokenHash);
      s.users.get(e.userId)!.passwordHash = e.passwordHash;
      return;
    case 'session.started': {
      const session: Session = { ...e, rotated: new Set(), revoked: false };
      s.sessions.set(e.familyId, session);
      s.sessionsByAccess.set(e.accessHash, session);
      s.sessionsByRefresh.set(e.refreshHash, session);
      return;
    }
    case 'session.refreshed': {
      const session = s.sessions.get(e.familyId)!;
      s.sessionsByAccess.delete(session.accessHash);
      session.rotated.add(session.refreshHash);
      Object.assign(session, {
        accessHash: e.accessHash,
        accessExpiresAt: e.accessExpiresAt,
        refreshHash: e.refreshHash,
        refreshExpiresAt: e.refreshExpiresAt,
      });
      s.sessionsByAccess.set(e.accessHash, session);
      s.sessionsByRefresh.set(e.refreshHash, session);
      return;
    }
    case 'session.revoked': {
      const session = s.sessions.get(e.familyId);
      if (session) session.revoked = true;
      return;
    }
    case 'api_key.created': {
      const key: ApiKey = {
        id: e.keyId,
        tenantId: e.tenantId,
        environment: e.environment,
        name: e.name,
        publicId: e.publicId,
        secretHash: e.secretHash,
        permissions: e.permissions,
        active: true,
        createdAt: e.at,
        lastUsedAt: null,
      };
      s.apiKeys.set(key.id, key);
      s.apiKeysByPublicId.set(key.publicId, key);
      return;
    }
    case 'api_key.regenerated': {
      s.apiKeys.get(e.keyId)!.secretHash = e.secretHash;
      return;
    }
    case 'api_key.toggled':
      s.apiKeys.get(e.keyId)!.active = e.active;
      return;
    case 'api_key.used': {
      const key = s.apiKeys.get(e.keyId);
      if (key) key.lastUsedAt = e.at;
      return;
    }
    case 'api_key.deleted': {
      const key = s.apiKeys.get(e.keyId);
      if (!key) return;
      s.apiKeys.delete(key.id);
      s.apiKeysByPublicId.delete(key.publicId);
      return;
    }
    case 'environment.provisioning':
      s.tenants.get(e.tenantId)!.environments[e.network] = {
        contractId: e.contractId,
        requestedAt: e.at,
        activeAt: e.activeAt,
      };
      return;
  }
}

/**
 * Whether `e` follows from the state built so far; why not, if it does not. A journal's
 * records are checked with it on start-up (mock/state/journal.ts), so a record that verifies
 * but depends on one that was lost is not applied to a state it cannot belong to. An event
 * follows when everything it refers to exists (user, tenant, session, key, endpoint, a
 * delivery's earlier attempts), what it creates does not exist yet (ids, e-mail addresses),
 * and a customer's deltas and checkpoints continue its sequence without a gap. Amounts,
 * hashes and proof roots are not recomputed: they are what was answered, and the records'
 * checksums vouch for them.
 */
export function checkEvent(s: Projections, e: SandboxEvent): string | undefined {
  const user = (id: string) => (s.users.has(id) ? undefined : `user ${id} does not exist`);
  const tenant = (id: string) => (s.tenants.has(id) ? undefined : `tenant ${id} does not exist`);
  switch (e.type) {
    case 'delta.recorded':
    case 'checkpoint.created':
      return tenant(e.tenantId) ?? checkLedgerEvent(s.ledger, e);
    case 'webhook.endpoint.created':
      return tenant(e.tenantId) ?? checkWebhookEvent(s.webhooks, e);
    case 'webhook.endpoint.updated':
    case 'webhook.endpoint.deleted':
    case 'webhook.secret.rotated':
    case 'webhook.event.announced':
    case 'webhook.delivery.attempted':
      return checkWebhookEvent(s.webhooks, e);
    case 'access.requested':
    case 'access.approved':
    case 'email.token.issued':
    case 'outbox.sent':
    case 'session.revoked':
    case 'api_key.deleted':
    case 'api_key.used':
      // Applied to whatever exists (an unknown session or key is left alone).
      return undefined;
    case 'user.registered':
      if (s.users.has(e.userId)) return `user ${e.userId} exists already`;
      if (s.usersByEmail.has(normalizeEmail(e.email))) return 'an account with this e-mail address exists already';
      return s.tenants.has(e.tenantId) ? `tenant ${e.tenantId} exists already` : undefined;
    case 'email.verified':
    case 'password.reset':
      return user(e.userId);
    case 'session.started':
      return user(e.userId) ?? (s.sessions.has(e.familyId) ? `session ${e.familyId} exists already` : undefined);
    case 'session.refreshed':
      return s.sessions.has(e.familyId) ? undefined : `session ${e.familyId} does not exist`;
    case 'api_key.created':
      if (s.apiKeys.has(e.keyId) || s.apiKeysByPublicId.has(e.publicId)) return `API key ${e.keyId} exists already`;
      return tenant(e.tenantId);
    case 'api_key.regenerated':
    case 'api_key.toggled':
      return s.apiKeys.has(e.keyId) ? undefined : `API key ${e.keyId} does not exist`;
    case 'environment.provisioning':
      return tenant(e.tenantId);
  }
}

function markUsed(s: Projections, tokenHash: string) {
  const token = s.emailTokens.get(tokenHash);
  if (token) token.used = true;
}

/** `active` once the provisioning delay has passed on the sandbox clock. */
export function environmentStatus(env: Tenant['environments'][Network], now: number) {
  if (!env) return 'not_provisioned' as const;
  return now >= env.activeAt ? ('active' as const) : ('provisioning' as const);
}
