// Environments (seed 004): Sandbox = testnet, Production = mainnet. Provisioning becomes
// active after a configurable delay on the sandbox clock; status is derived when read, and
// the `environment.activated` webhook is announced when the delay has passed
// (environment-activations.ts, which also re-arms it after a journal replay).
import { fail } from '../http/problem.ts';
import { randomId } from '../security/secrets.ts';
import type { Services } from '../services.ts';
import type { Network } from '../state/events.ts';
import { environmentStatus, type Tenant } from '../state/projections.ts';
import { callerOf, iso, ok, type Handlers } from './handler.ts';
import { scheduleActivation } from './environment-activations.ts';

const NETWORKS: Network[] = ['testnet', 'mainnet'];
const META = {
  testnet: { keyEnvironment: 'test', name: 'Sandbox' },
  mainnet: { keyEnvironment: 'live', name: 'Production' },
} as const;

function describe(services: Services, tenant: Tenant, network: Network) {
  const env = tenant.environments[network];
  const status = environmentStatus(env, services.clock.now());
  return { env, status, provisionedAt: env && status === 'active' ? iso(env.activeAt) : null };
}

function ownTenant(services: Services, tenantId: string) {
  return services.store.state.tenants.get(tenantId)!;
}

export const environmentHandlers: Handlers = {
  listEnvironments(ctx) {
    const { user } = callerOf(ctx, 'session');
    const tenant = ownTenant(ctx.services, user.tenantId);
    const { config } = ctx.services;
    return ok(
      200,
      NETWORKS.map((network) => {
        const { status, provisionedAt } = describe(ctx.services, tenant, network);
        return {
          environment: network,
          ...META[network],
          status,
          apiBaseUrl: network === 'testnet' ? config.sandboxUrl : config.productionUrl,
          provisionedAt,
        };
      }),
    );
  },

  async provisionEnvironment(ctx) {
    const { user } = callerOf(ctx, 'session');
    const network = (ctx.body as { environment: Network }).environment;
    const tenant = ownTenant(ctx.services, user.tenantId);
    const { status } = describe(ctx.services, tenant, network);
    if (status === 'active' || status === 'provisioning') {
      throw fail('environment_already_provisioned', `The ${network} environment is already ${status}.`);
    }
    const now = ctx.services.clock.now();
    const activeAt = now + ctx.services.config.provisioningMs;
    await ctx.services.store.commit({
      type: 'environment.provisioning',
      at: now,
      tenantId: tenant.id,
      network,
      contractId: randomId('ctr_', 16),
      activeAt,
    });
    scheduleActivation(ctx.services, tenant.id, network, activeAt);
    return ok(201, {
      tenantId: tenant.id,
      environment: network,
      status: 'provisioning',
      message: 'Environment is being provisioned. This usually takes a few seconds.',
    });
  },

  getEnvironmentStatus(ctx) {
    const { user } = callerOf(ctx, 'session');
    // Another tenant's id answers exactly like an unknown one.
    if (ctx.params.tenantId !== user.tenantId) throw fail('not_found', 'No tenant with this id.');
    const tenant = ownTenant(ctx.services, user.tenantId);
    return ok(200, {
      tenantId: tenant.id,
      environments: NETWORKS.map((network) => {
        const { status, provisionedAt } = describe(ctx.services, tenant, network);
        return { environment: network, status, ...(provisionedAt ? { provisionedAt } : {}) };
      }),
    });
  },

  listContracts(ctx) {
    const { user } = callerOf(ctx, 'session');
    const tenant = ownTenant(ctx.services, user.tenantId);
    return ok(
      200,
      NETWORKS.flatMap((network) => {
        const { env, status, provisionedAt } = describe(ctx.services, tenant, network);
        if (!env || status === 'not_provisioned') return [];
        return [{ id: env.contractId, tenantId: tenant.id, environment: network, status, provisionedAt }];
      }),
    );
  },
};
