// The deterministic demo account of `--seed N`: the same seed gives the same person, email,
// password and organization on every start (Faker, seeded); its API key is fresh each time.
// The English-only entry point: the package's main entry loads every locale (~0.6 s at start-up).
import { faker } from '@faker-js/faker/locale/en';
import { issueApiKey, ALL_PERMISSIONS } from '../domain/api-keys.ts';
import { hashPassword, randomBase62 } from '../security/secrets.ts';
import type { Services } from '../services.ts';

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

export async function seedDemoAccount(services: Services, seed: number): Promise<DemoAccount> {
  const who = demoIdentity(seed);
  const at = services.clock.now();
  await services.store.commit(
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
      passwordHash: hashPassword(who.password),
      accessTokenHash: null,
      approved: true,
      contractId: `ctr_${randomBase62(16)}`,
    },
    { type: 'email.verified', at, userId: who.userId, tokenHash: '' },
  );
  const { fullKey } = await issueApiKey(services, who.tenantId, {
    name: 'demo-key',
    environment: 'test',
    permissions: ALL_PERMISSIONS,
  });
  return { ...who, apiKey: fullKey };
}
