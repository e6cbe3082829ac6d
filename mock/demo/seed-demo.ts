// The deterministic demo account of `--seed N`: the same seed gives the same person, email,
// password and organization on every start (Faker, seeded); its API key is fresh each time.
// The English-only entry point: the package's main entry loads every locale (~0.6 s at start-up).
import { faker } from '@faker-js/faker/locale/en';
import { newApiKey, ALL_PERMISSIONS } from '../domain/api-keys.ts';
import { hashPassword, randomId } from '../security/secrets.ts';
import type { Services } from '../services.ts';
import type { SandboxEvent } from '../state/events.ts';

export type DemoAccount = {
  name: string;
  email: string;
  password: string;
  organization: string;
  tenantId: string;
  userId: string;
  /** The full pk_test_ key: shown once, when the account is seeded. */
  apiKey: string;
};

export type DemoIdentity = Omit<DemoAccount, 'apiKey'>;

export function demoIdentity(seed: number): DemoIdentity {
  // Seeding right before use makes the shared instance deterministic for this seed.
  faker.seed(seed);
  const first = faker.person.firstName();
  const last = faker.person.lastName();
  const organization = faker.company.name();
  return {
    name: `${first} ${last}`,
    email: faker.internet.email({ firstName: first, lastName: last, provider: 'demo.pacspace.test' }).toLowerCase(),
    organization,
    password: faker.internet.password({ length: 20, memorable: false, pattern: /[A-Za-z0-9]/ }),
    userId: `usr_${faker.string.alphanumeric(12)}`,
    tenantId: `tnt_${faker.string.alphanumeric(12)}`,
  };
}

/**
 * The events that create the demo account of `seed` (with a fresh `pk_test_` key) in a sandbox
 * that does not have it, not committed yet, and the account they create. Start-up commits them
 * (seedDemoAccount); a reset writes them as the whole new journal in one step (resetState).
 */
export async function demoAccountEvents(seed: number, at: number, passwordHash?: Promise<string>): Promise<{ events: SandboxEvent[]; demo: DemoAccount }> {
  const who = demoIdentity(seed);
  // No webhook endpoint can listen yet (the tenant is new), so the key is announced to no one.
  const key = newApiKey(who.tenantId, { name: 'demo-key', environment: 'test', permissions: ALL_PERMISSIONS }, at);
  const events: SandboxEvent[] = [
    {
      type: 'access.requested',
      at,
      email: who.email,
      name: who.name,
      organization: who.organization,
      buyerMode: 'DIRECT_INFERENCE_VENDOR',
      useCase: 'Record usage before invoices go out.',
    },
    { type: 'access.approved', at, email: who.email },
    {
      type: 'user.registered',
      at,
      userId: who.userId,
      tenantId: who.tenantId,
      email: who.email,
      name: who.name,
      passwordHash: await (passwordHash ?? hashPassword(who.password)),
      accessTokenHash: null,
      approved: true,
      contractId: randomId('ctr_', 16),
    },
    { type: 'email.verified', at, userId: who.userId, tokenHash: '' },
    key.event,
  ];
  return { events, demo: { ...who, apiKey: key.fullKey } };
}

/**
 * Creates the demo account of `seed` (start-up, when the sandbox does not have it yet).
 * `passwordHash`, when given, is the demo password's hash already under way.
 */
export async function seedDemoAccount(services: Services, seed: number, passwordHash?: Promise<string>): Promise<DemoAccount> {
  const { events, demo } = await demoAccountEvents(seed, services.clock.now(), passwordHash);
  await services.store.commit(...events);
  return demo;
}
