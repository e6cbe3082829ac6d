// The read models (projections.ts), alone, from events: accounts, e-mail tokens, sessions, API
// keys, environments, the latest instant; checkEvent's verdicts (what a replayed journal record
// must follow from); lastUsedAt from api_key.used; environmentStatus. The ledger's and webhooks' own
// projections are exercised through the API (domain tests) and the journal tests.
import { describe, expect, it } from 'vitest';
import type { SandboxEvent } from './events.ts';
import { applyEvent, checkEvent, createProjections, environmentStatus, normalizeEmail, type Projections } from './projections.ts';

const registered = (over: Partial<Extract<SandboxEvent, { type: 'user.registered' }>> = {}): SandboxEvent => ({
  type: 'user.registered',
  at: 100,
  userId: 'usr_1',
  tenantId: 'ten_1',
  email: 'Jane@Example.com',
  name: 'Jane',
  passwordHash: 'hash-1',
  accessTokenHash: null,
  approved: true,
  contractId: 'ctr_test',
  ...over,
});
const keyCreated = (over: Partial<Extract<SandboxEvent, { type: 'api_key.created' }>> = {}): SandboxEvent => ({
  type: 'api_key.created',
  at: 200,
  keyId: 'key_1',
  tenantId: 'ten_1',
  environment: 'test',
  name: 'CI',
  publicId: 'pub_1',
  secretHash: 'secret-1',
  permissions: ['balance:read'],
  ...over,
});
const sessionStarted: SandboxEvent = {
  type: 'session.started',
  at: 300,
  familyId: 'fam_1',
  userId: 'usr_1',
  accessHash: 'acc-1',
  accessExpiresAt: 1_000,
  refreshHash: 'ref-1',
  refreshExpiresAt: 9_000,
};

function build(...events: SandboxEvent[]): Projections {
  const s = createProjections();
  for (const e of events) {
    expect(checkEvent(s, e), `${e.type} follows`).toBeUndefined();
    applyEvent(s, e);
  }
  return s;
}

describe('projections', () => {
  it('normalizes e-mail addresses (trimmed, lower case)', () => {
    expect(normalizeEmail('  Jane@Example.COM ')).toBe('jane@example.com');
  });

  it('an access request, approved before or after the account registers', () => {
    const s = build({ type: 'access.requested', at: 1, email: 'Jane@Example.com', name: 'Jane', organization: 'Acme', buyerMode: 'X', useCase: 'Y' });
    expect(s.accessRequests.get('jane@example.com')).toEqual({ email: 'Jane@Example.com', name: 'Jane', organization: 'Acme', requestedAt: 1, approved: false });
    applyEvent(s, registered({ approved: false }));
    expect(s.users.get('usr_1')!.approved).toBe(false);
    applyEvent(s, { type: 'access.approved', at: 150, email: 'JANE@example.com' });
    expect(s.accessRequests.get('jane@example.com')!.approved).toBe(true);
    expect(s.users.get('usr_1')!.approved).toBe(true);
    // Asking again keeps the approval.
    applyEvent(s, { type: 'access.requested', at: 160, email: 'jane@example.com', name: 'J', organization: 'A', buyerMode: 'X', useCase: 'Y' });
    expect(s.accessRequests.get('jane@example.com')).toMatchObject({ name: 'J', requestedAt: 160, approved: true });
  });

  it('a registered user: the user by id and by address, an owner, unverified, with the Sandbox environment active at once', () => {
    const s = build(registered());
    const user = s.users.get('usr_1')!;
    expect(user).toEqual({ id: 'usr_1', tenantId: 'ten_1', email: 'Jane@Example.com', name: 'Jane', role: 'owner', passwordHash: 'hash-1', approved: true, verified: false, createdAt: 100 });
    expect(s.usersByEmail.get('jane@example.com')).toBe(user);
    expect(s.tenants.get('ten_1')).toEqual({
      id: 'ten_1',
      ownerId: 'usr_1',
      environments: { testnet: { contractId: 'ctr_test', requestedAt: 100, activeAt: 100 }, mainnet: undefined },
    });
  });

  it('e-mail tokens: a new one of a kind supersedes the earlier ones for the address; using one marks it used', () => {
    const s = build(
      { type: 'email.token.issued', at: 1, kind: 'access', email: 'Jane@Example.com', tokenHash: 'a1', expiresAt: 50 },
      { type: 'email.token.issued', at: 2, kind: 'reset', email: 'jane@example.com', tokenHash: 'r1', expiresAt: 50 },
      { type: 'email.token.issued', at: 3, kind: 'access', email: 'other@example.com', tokenHash: 'o1', expiresAt: 50 },
      { type: 'email.token.issued', at: 4, kind: 'access', email: 'jane@example.com', tokenHash: 'a2', expiresAt: 60 },
    );
    expect(s.emailTokens.get('a1')).toEqual({ kind: 'access', email: 'jane@example.com', expiresAt: 50, used: false, superseded: true });
    expect(s.emailTokens.get('a2')).toMatchObject({ superseded: false, used: false });
    expect(s.emailTokens.get('r1')!.superseded).toBe(false);
    expect(s.emailTokens.get('o1')!.superseded).toBe(false);
    applyEvent(s, registered({ accessTokenHash: 'a2' }));
    expect(s.emailTokens.get('a2')!.used).toBe(true);
    applyEvent(s, { type: 'email.token.issued', at: 5, kind: 'verify', email: 'jane@example.com', tokenHash: 'v1', expiresAt: 70 });
    applyEvent(s, { type: 'email.verified', at: 6, userId: 'usr_1', tokenHash: 'v1' });
    expect(s.emailTokens.get('v1')!.used).toBe(true);
    expect(s.users.get('usr_1')!.verified).toBe(true);
    applyEvent(s, { type: 'password.reset', at: 7, userId: 'usr_1', passwordHash: 'hash-2', tokenHash: 'r1' });
    expect(s.emailTokens.get('r1')!.used).toBe(true);
    expect(s.users.get('usr_1')!.passwordHash).toBe('hash-2');
  });

  it('the outbox keeps every message in order, without its event type', () => {
    const message = { at: 1, messageId: 'msg_1', to: 'jane@example.com', kind: 'verify' as const, subject: 'S', text: 'T', link: 'L', token: 'tok' };
    const s = build({ type: 'outbox.sent', ...message }, { type: 'outbox.sent', ...message, messageId: 'msg_2' });
    expect(s.outbox).toEqual([message, { ...message, messageId: 'msg_2' }]);
  });

  it('sessions: started, refreshed (the old refresh hash remembered as rotated, the old access hash forgotten), revoked', () => {
    const s = build(registered(), sessionStarted);
    const session = s.sessions.get('fam_1')!;
    expect(session).toMatchObject({ userId: 'usr_1', accessHash: 'acc-1', refreshHash: 'ref-1', revoked: false });
    expect(s.sessionsByAccess.get('acc-1')).toBe(session);
    expect(s.sessionsByRefresh.get('ref-1')).toBe(session);
    applyEvent(s, { type: 'session.refreshed', at: 400, familyId: 'fam_1', accessHash: 'acc-2', accessExpiresAt: 2_000, refreshHash: 'ref-2', refreshExpiresAt: 10_000 });
    expect(session).toMatchObject({ accessHash: 'acc-2', accessExpiresAt: 2_000, refreshHash: 'ref-2', refreshExpiresAt: 10_000 });
    expect([...session.rotated]).toEqual(['ref-1']);
    expect(s.sessionsByAccess.has('acc-1')).toBe(false);
    expect(s.sessionsByAccess.get('acc-2')).toBe(session);
    // The rotated refresh hash still finds its family (so reusing it can revoke the family).
    expect(s.sessionsByRefresh.get('ref-1')).toBe(session);
    expect(s.sessionsByRefresh.get('ref-2')).toBe(session);
    applyEvent(s, { type: 'session.revoked', at: 500, familyId: 'fam_1', reason: 'logout' });
    expect(session.revoked).toBe(true);
    // An unknown family is left alone.
    applyEvent(s, { type: 'session.revoked', at: 501, familyId: 'fam_x', reason: 'logout' });
    expect(s.sessions.size).toBe(1);
  });

  it('API keys: created (active, never used), regenerated, toggled, deleted (from both indexes)', () => {
    const s = build(registered(), keyCreated());
    const key = s.apiKeys.get('key_1')!;
    expect(key).toEqual({ id: 'key_1', tenantId: 'ten_1', environment: 'test', name: 'CI', publicId: 'pub_1', secretHash: 'secret-1', permissions: ['balance:read'], active: true, createdAt: 200, lastUsedAt: null });
    expect(s.apiKeysByPublicId.get('pub_1')).toBe(key);
    applyEvent(s, { type: 'api_key.regenerated', at: 210, keyId: 'key_1', secretHash: 'secret-2' });
    expect(key.secretHash).toBe('secret-2');
    applyEvent(s, { type: 'api_key.toggled', at: 220, keyId: 'key_1', active: false });
    expect(key.active).toBe(false);
    applyEvent(s, { type: 'api_key.deleted', at: 230, keyId: 'key_1' });
    expect(s.apiKeys.has('key_1')).toBe(false);
    expect(s.apiKeysByPublicId.has('pub_1')).toBe(false);
    applyEvent(s, { type: 'api_key.deleted', at: 240, keyId: 'key_1' }); // again: nothing to do
  });

  it('provisioning an environment; its status on the clock', () => {
    const s = build(registered(), { type: 'environment.provisioning', at: 300, tenantId: 'ten_1', network: 'mainnet', contractId: 'ctr_live', activeAt: 1_300 });
    const mainnet = s.tenants.get('ten_1')!.environments.mainnet;
    expect(mainnet).toEqual({ contractId: 'ctr_live', requestedAt: 300, activeAt: 1_300 });
    expect(environmentStatus(undefined, 5_000)).toBe('not_provisioned');
    expect(environmentStatus(mainnet, 1_299)).toBe('provisioning');
    expect(environmentStatus(mainnet, 1_300)).toBe('active');
  });

  it('remembers the latest event instant, whatever order the instants come in', () => {
    const s = build(registered({ at: 500 }), keyCreated({ at: 200 }));
    expect(s.lastEventAt).toBe(500);
    applyEvent(s, { type: 'api_key.toggled', at: 700, keyId: 'key_1', active: false });
    expect(s.lastEventAt).toBe(700);
  });

  describe('checkEvent', () => {
    const base = () => build(registered(), sessionStarted, keyCreated());
    it.each<[string, SandboxEvent, string | undefined]>([
      ['a second user with the same id', registered({ email: 'new@example.com', tenantId: 'ten_2' }), 'user usr_1 exists already'],
      ['a second user with the same address, in another case', registered({ userId: 'usr_2', tenantId: 'ten_2', email: ' JANE@example.com' }), 'an account with this e-mail address exists already'],
      ['a second user with the same tenant', registered({ userId: 'usr_2', email: 'new@example.com' }), 'tenant ten_1 exists already'],
      ['a new user', registered({ userId: 'usr_2', tenantId: 'ten_2', email: 'new@example.com' }), undefined],
      ['verifying an unknown user', { type: 'email.verified', at: 1, userId: 'usr_x', tokenHash: 'v' }, 'user usr_x does not exist'],
      ['resetting an unknown user’s password', { type: 'password.reset', at: 1, userId: 'usr_x', passwordHash: 'h', tokenHash: 'r' }, 'user usr_x does not exist'],
      ['a session of an unknown user', { ...sessionStarted, familyId: 'fam_2', userId: 'usr_x' } as SandboxEvent, 'user usr_x does not exist'],
      ['a session family that exists', sessionStarted, 'session fam_1 exists already'],
      ['refreshing an unknown session', { type: 'session.refreshed', at: 1, familyId: 'fam_x', accessHash: 'a', accessExpiresAt: 1, refreshHash: 'r', refreshExpiresAt: 1 }, 'session fam_x does not exist'],
      ['revoking an unknown session (left alone)', { type: 'session.revoked', at: 1, familyId: 'fam_x', reason: 'logout' }, undefined],
      ['a key id that exists', keyCreated({ publicId: 'pub_2' }), 'API key key_1 exists already'],
      ['a public id that exists', keyCreated({ keyId: 'key_2' }), 'API key key_2 exists already'],
      ['a key of an unknown tenant', keyCreated({ keyId: 'key_2', publicId: 'pub_2', tenantId: 'ten_x' }), 'tenant ten_x does not exist'],
      ['regenerating an unknown key', { type: 'api_key.regenerated', at: 1, keyId: 'key_x', secretHash: 's' }, 'API key key_x does not exist'],
      ['toggling an unknown key', { type: 'api_key.toggled', at: 1, keyId: 'key_x', active: true }, 'API key key_x does not exist'],
      ['deleting an unknown key (left alone)', { type: 'api_key.deleted', at: 1, keyId: 'key_x' }, undefined],
      ['provisioning for an unknown tenant', { type: 'environment.provisioning', at: 1, tenantId: 'ten_x', network: 'mainnet', contractId: 'c', activeAt: 2 }, 'tenant ten_x does not exist'],
      ['provisioning for a known tenant', { type: 'environment.provisioning', at: 1, tenantId: 'ten_1', network: 'mainnet', contractId: 'c', activeAt: 2 }, undefined],
      ['an access request', { type: 'access.requested', at: 1, email: 'a@b.c', name: 'n', organization: 'o', buyerMode: 'x', useCase: 'y' }, undefined],
      ['an approval of an address never seen', { type: 'access.approved', at: 1, email: 'nobody@example.com' }, undefined],
    ])('%s', (_name, event, verdict) => {
      const s = base();
      expect(checkEvent(s, event)).toBe(verdict);
    });
  });

  it('lastUsedAt is the latest api_key.used of the key, null before; a rebuild from the events restores it', () => {
    const events: SandboxEvent[] = [
      registered(),
      keyCreated(),
      keyCreated({ keyId: 'key_2', publicId: 'pub_2' }),
      { type: 'api_key.used', at: 12_345, keyId: 'key_1' },
      { type: 'api_key.used', at: 99_999, keyId: 'key_1' },
    ];
    const s = build(...events);
    expect(s.apiKeys.get('key_1')!.lastUsedAt).toBe(99_999);
    expect(s.apiKeys.get('key_2')!.lastUsedAt).toBeNull();
    expect(build(...events).apiKeys.get('key_1')!.lastUsedAt).toBe(99_999);
  });

  it('api_key.used of a key that no longer exists follows and changes nothing', () => {
    const s = build(registered(), keyCreated(), { type: 'api_key.deleted', at: 300, keyId: 'key_1' });
    const used: SandboxEvent = { type: 'api_key.used', at: 400, keyId: 'key_1' };
    expect(checkEvent(s, used)).toBeUndefined();
    applyEvent(s, used);
    expect(s.apiKeys.size).toBe(0);
  });
});
