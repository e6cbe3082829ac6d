// Every change to sandbox state is one of these events. Handlers decide and emit; the store
// appends them to the journal and applies them to the projections (state/projections.ts).
// A rejected request emits nothing, so an error can never change state.
export type KeyEnvironment = 'test' | 'live';
export type Network = 'testnet' | 'mainnet';
export type Permission = 'balance:read' | 'balance:write';
export type EmailTokenKind = 'access' | 'verify' | 'reset';

import type { LedgerEvent } from './ledger.ts';
import type { WebhookEvent } from './webhooks.ts';

export type SandboxEvent =
  | LedgerEvent
  | WebhookEvent
  | { type: 'access.requested'; at: number; email: string; name: string; organization: string; buyerMode: string; useCase: string }
  /** Approves the address: its access request, and its account if one was registered while pending. */
  | { type: 'access.approved'; at: number; email: string }
  | { type: 'email.token.issued'; at: number; kind: EmailTokenKind; email: string; tokenHash: string; expiresAt: number }
  | { type: 'outbox.sent'; at: number; messageId: string; to: string; kind: EmailTokenKind; subject: string; text: string; link: string; token: string }
  | {
      type: 'user.registered';
      at: number;
      userId: string;
      tenantId: string;
      email: string;
      name: string;
      passwordHash: string;
      /** Registered through an approval link (the token is used up), or pending approval. */
      accessTokenHash: string | null;
      approved: boolean;
      contractId: string;
    }
  | { type: 'email.verified'; at: number; userId: string; tokenHash: string }
  | { type: 'password.reset'; at: number; userId: string; passwordHash: string; tokenHash: string }
  | {
      type: 'session.started';
      at: number;
      familyId: string;
      userId: string;
      accessHash: string;
      accessExpiresAt: number;
      refreshHash: string;
      refreshExpiresAt: number;
    }
  | {
      type: 'session.refreshed';
      at: number;
      familyId: string;
      accessHash: string;
      accessExpiresAt: number;
      refreshHash: string;
      refreshExpiresAt: number;
    }
  | { type: 'session.revoked'; at: number; familyId: string; reason: 'logout' | 'refresh_reuse' | 'password_reset' }
  | {
      type: 'api_key.created';
      at: number;
      keyId: string;
      tenantId: string;
      environment: KeyEnvironment;
      name: string;
      publicId: string;
      secretHash: string;
      permissions: Permission[];
    }
  | { type: 'api_key.regenerated'; at: number; keyId: string; secretHash: string }
  | { type: 'api_key.toggled'; at: number; keyId: string; active: boolean }
  | { type: 'api_key.deleted'; at: number; keyId: string }
  /** The key authenticated a request that succeeded: at most one a minute per key (mock/domain/api-key-use.ts). */
  | { type: 'api_key.used'; at: number; keyId: string }
  | { type: 'environment.provisioning'; at: number; tenantId: string; network: Network; contractId: string; activeAt: number };

export type EventOf<T extends SandboxEvent['type']> = Extract<SandboxEvent, { type: T }>;

/**
 * The secrets some events carry that the sandbox must read back: webhook signing secrets (the
 * HMAC key of every delivery) and the e-mails of the outbox (their links hold live tokens).
 * Plain in memory; sealed with the data key in the journal (mock/state/journal.ts). Every
 * other secret is kept as a one-way hash only (API key secrets, session and e-mailed tokens:
 * SHA-256; passwords: scrypt).
 */
export const SEALED_FIELDS = {
  'webhook.endpoint.created': ['secret'],
  'webhook.secret.rotated': ['secret'],
  'outbox.sent': ['text', 'link', 'token'],
} as const satisfies { [T in SandboxEvent['type']]?: ReadonlyArray<keyof EventOf<T> & string> };
