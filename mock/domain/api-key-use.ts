// When an API key was last used (`lastUsedAt` of the ApiKey schema), kept as `api_key.used`
// events like every other fact of the sandbox, so it survives a restart and a rolled-back write
// like the rest of the state.
//
// One event per authenticated request would make the journal (and its fsyncs) grow with every
// read, so the use is recorded coarsely: at most once per KEY_USE_RESOLUTION_MS per key, the
// first use after the window has passed. `lastUsedAt` is then exact for a key's first use and
// at most a minute behind its latest one, as dashboards show it ("used a minute ago").
//
// Only a request answered with success records a use: an error emits no event (README, "How a
// request travels"), so a refused or invalid request never changes state, lastUsedAt included.
import type { ApiKey } from '../state/projections.ts';
import type { Services } from '../services.ts';

/** The finest step of `lastUsedAt`: a key's use is recorded at most once per minute. */
export const KEY_USE_RESOLUTION_MS = 60_000;

/** The `api_key.used` event a use of `key` at `now` calls for, if any (a first use, or the first one past the window). */
export function keyUseEvent(key: Pick<ApiKey, 'id' | 'lastUsedAt'>, now: number) {
  if (key.lastUsedAt !== null && now - key.lastUsedAt < KEY_USE_RESOLUTION_MS) return undefined;
  return { type: 'api_key.used' as const, at: now, keyId: key.id };
}

/**
 * Records that `key` authenticated a request that succeeded (called by the app once the answer
 * is decided and durable). Not awaited: the answer does not wait for it, and a write that fails
 * (a full disk) is rolled back with nothing lost but this use; a later one records it again.
 */
export function recordKeyUse(services: Services, keyId: string): void {
  // Deleted meanwhile (or gone with a reset): nothing to record.
  const key = services.store.state.apiKeys.get(keyId);
  if (!key) return;
  const event = keyUseEvent(key, services.clock.now());
  if (event) services.store.commit(event).catch(() => {});
}
