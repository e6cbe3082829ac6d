// Environment activations alone: resumeActivations re-arms exactly the activations a replayed
// journal has not reached yet, and an armed activation announces `environment.activated` only
// if it is still the environment's current one.
import { describe, expect, it } from 'vitest';
import type { Announcement, Services } from '../services.ts';
import type { SandboxEvent } from '../state/events.ts';
import { applyEvent, createProjections } from '../state/projections.ts';
import { resumeActivations, scheduleActivation } from './environment-activations.ts';

function fakeServices(events: SandboxEvent[]) {
  const state = createProjections();
  for (const e of events) applyEvent(state, e);
  const armed: Array<{ at: number; run: () => Promise<void> | void }> = [];
  const announced: Announcement[] = [];
  const services = {
    store: { state, commit: async () => {} },
    scheduler: { at: (at: number, run: () => Promise<void> | void) => void armed.push({ at, run }) },
    webhooks: { announce: (a: Announcement) => (announced.push(a), []), flush: () => {} },
  } as unknown as Services;
  return { services, state, armed, announced };
}

const registered = (tenantId: string, at: number): SandboxEvent => ({
  type: 'user.registered',
  at,
  userId: `usr_${tenantId}`,
  tenantId,
  email: `${tenantId}@example.com`,
  name: 'A',
  passwordHash: 'h',
  accessTokenHash: null,
  approved: true,
  contractId: 'ctr_test',
});

describe('environment activations', () => {
  it('resumeActivations re-arms the activations after the last journaled instant, no others', () => {
    const { services, armed } = fakeServices([
      registered('ten_1', 1_000),
      registered('ten_2', 1_100),
      // Active before the journal ends: announced already.
      { type: 'environment.provisioning', at: 1_200, tenantId: 'ten_1', network: 'mainnet', contractId: 'ctr_1', activeAt: 1_300 },
      // Still provisioning when the journal ends.
      { type: 'environment.provisioning', at: 1_400, tenantId: 'ten_2', network: 'mainnet', contractId: 'ctr_2', activeAt: 6_400 },
    ]);
    resumeActivations(services);
    expect(armed.map((a) => a.at)).toEqual([6_400]);
  });

  it('an armed activation announces environment.activated, unless the environment was provisioned anew or is gone', async () => {
    const { services, state, armed, announced } = fakeServices([
      registered('ten_1', 1_000),
      { type: 'environment.provisioning', at: 1_200, tenantId: 'ten_1', network: 'mainnet', contractId: 'ctr_1', activeAt: 6_200 },
    ]);
    scheduleActivation(services, 'ten_1', 'mainnet', 6_200);
    scheduleActivation(services, 'ten_1', 'mainnet', 5_000); // not the current one
    scheduleActivation(services, 'ten_gone', 'mainnet', 6_200);
    for (const a of armed) await a.run();
    expect(announced).toEqual([
      {
        type: 'environment.activated',
        tenantId: 'ten_1',
        environment: 'live',
        at: 6_200,
        data: { tenantId: 'ten_1', environment: 'mainnet', status: 'active', provisionedAt: new Date(6_200).toISOString() },
      },
    ]);
    expect(state.tenants.get('ten_1')!.environments.mainnet!.activeAt).toBe(6_200);
  });
});
