// Named faults, each breaking exactly one rule the conformance suite claims to check. They
// exist only so the suite can prove it catches broken servers (`npm run conformance:mutants`);
// every one is off unless switched on through the control surface.
export const FAULTS = {
  'secret-in-list': 'GET /dashboard/api-keys includes each key\'s secretKey (reveal-once broken).',
  'csrf-not-enforced': 'Unsafe dashboard requests without X-Pacspace-CSRF: 1 are accepted.',
  'bad-key-403': 'An unknown or malformed API key gets 403 instead of 401.',
  'wrong-environment-key-accepted': 'A pk_live_ key is accepted on the sandbox listener and a pk_test_ key on the production one.',
  'disabled-key-accepted': 'A disabled API key still authenticates.',
  'retry-after-missing': '429 answers carry no Retry-After header.',
  'cookie-without-httponly': 'Session cookies are set without the HttpOnly attribute.',
} as const;

export type FaultName = keyof typeof FAULTS;

export const isFaultName = (name: string): name is FaultName => Object.hasOwn(FAULTS, name);

export function createFaults() {
  const active = new Set<FaultName>();
  return {
    has: (name: FaultName) => active.has(name),
    set(name: FaultName, on: boolean) {
      if (on) active.add(name);
      else active.delete(name);
    },
    active: () => [...active],
    clear: () => active.clear(),
  };
}

export type Faults = ReturnType<typeof createFaults>;
