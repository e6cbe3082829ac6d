// lastUsedAt as events: when a use calls for an `api_key.used` event (at most one a minute per
// key), and recordKeyUse committing it against the projection, never for a key that is gone.
import { describe, expect, it } from 'vitest';
import type { Services } from '../services.ts';
import type { SandboxEvent } from '../state/events.ts';
import { applyEvent, createProjections } from '../state/projections.ts';
import { KEY_USE_RESOLUTION_MS, keyUseEvent, recordKeyUse } from './api-key-use.ts';

describe('keyUseEvent', () => {
  it('a first use is recorded; then at most one a minute', () => {
    expect(keyUseEvent({ id: 'key_1', lastUsedAt: null }, 5_000)).toEqual({ type: 'api_key.used', at: 5_000, keyId: 'key_1' });
    expect(keyUseEvent({ id: 'key_1', lastUsedAt: 5_000 }, 5_000 + KEY_USE_RESOLUTION_MS - 1)).toBeUndefined();
    expect(keyUseEvent({ id: 'key_1', lastUsedAt: 5_000 }, 5_000 + KEY_USE_RESOLUTION_MS)).toEqual({ type: 'api_key.used', at: 5_000 + KEY_USE_RESOLUTION_MS, keyId: 'key_1' });
  });
});

describe('recordKeyUse', () => {
  function fakeServices(now: { at: number }, failing = false) {
    const state = createProjections();
    const committed: SandboxEvent[] = [];
    const services = {
      clock: { now: () => now.at },
      store: {
        state,
        commit: async (...events: SandboxEvent[]) => {
          if (failing) throw new Error('storage unavailable');
          for (const e of events) applyEvent(state, e);
          committed.push(...events);
        },
      },
    } as unknown as Services;
    applyEvent(state, { type: 'user.registered', at: 1, userId: 'usr_1', tenantId: 'ten_1', email: 'a@b.c', name: 'A', passwordHash: 'h', accessTokenHash: null, approved: true, contractId: 'ctr_1' });
    applyEvent(state, { type: 'api_key.created', at: 2, keyId: 'key_1', tenantId: 'ten_1', environment: 'test', name: 'k', publicId: 'pub_1', secretHash: 's', permissions: ['balance:read'] });
    return { services, state, committed };
  }

  it('commits api_key.used, which sets lastUsedAt; uses within the minute add nothing', async () => {
    const now = { at: 10_000 };
    const { services, state, committed } = fakeServices(now);
    recordKeyUse(services, 'key_1');
    await Promise.resolve();
    expect(state.apiKeys.get('key_1')!.lastUsedAt).toBe(10_000);
    now.at += 30_000;
    recordKeyUse(services, 'key_1');
    now.at += 30_000;
    recordKeyUse(services, 'key_1');
    await Promise.resolve();
    expect(committed).toEqual([
      { type: 'api_key.used', at: 10_000, keyId: 'key_1' },
      { type: 'api_key.used', at: 70_000, keyId: 'key_1' },
    ]);
    expect(state.apiKeys.get('key_1')!.lastUsedAt).toBe(70_000);
  });

  it('a key deleted meanwhile records nothing; a failed write is not an error of the request', async () => {
    const { services, state, committed } = fakeServices({ at: 10_000 });
    applyEvent(state, { type: 'api_key.deleted', at: 3, keyId: 'key_1' });
    recordKeyUse(services, 'key_1');
    expect(committed).toEqual([]);
    const failing = fakeServices({ at: 10_000 }, true);
    expect(() => recordKeyUse(failing.services, 'key_1')).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(failing.state.apiKeys.get('key_1')!.lastUsedAt).toBeNull();
  });
});
