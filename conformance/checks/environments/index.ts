// Environments: the list, their base URLs and networks, activation (not_provisioned →
// provisioning → active | error), the contracts list, and the environment.activated event.
// Only ENV-002 writes: with --provision it provisions Production (mainnet) when it is not
// provisioned yet, which on a real deployment is a real, irreversible action.
import { defineCheck, type Check } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { createClient, type Client } from '../../lib/http.ts';
import { Inconclusive } from '../../lib/outcome.ts';
import { arrivedAt, createHook, deletingItsEndpoints, eventProblems, ofType, pollUntil, settle, waitAt } from '../webhooks/support.ts';

const NETWORKS = ['testnet', 'mainnet'] as const;
const META = { testnet: { keyEnvironment: 'test', name: 'Sandbox' }, mainnet: { keyEnvironment: 'live', name: 'Production' } } as const;
const ACTIVATION_WAIT_MS = 60_000;

type Snapshot = { tenantId: string; environments: any[]; status: any[]; contracts: any[] };

async function tenantOf(dash: Client): Promise<string> {
  const me = await dash.get('/dashboard/auth/me');
  expectStatus(me, 200, 'reading the signed-in user');
  return me.body.data.tenantId;
}

/** The three views of the tenant's environments. */
async function snapshot(dash: Client, tenantId: string): Promise<Snapshot> {
  const environments = await dash.get('/dashboard/environments');
  expectStatus(environments, 200, 'listing environments');
  const status = await dash.get(`/dashboard/contracts/${tenantId}/status`);
  expectStatus(status, 200, 'reading the environment status');
  const contracts = await dash.get('/dashboard/contracts');
  expectStatus(contracts, 200, 'listing contracts');
  ensure(status.body?.data?.tenantId === tenantId, `the status report names tenant ${status.body?.data?.tenantId}, not the signed-in user's`);
  return { tenantId, environments: environments.body?.data ?? [], status: status.body?.data?.environments ?? [], contracts: contracts.body?.data ?? [] };
}

const sameInstant = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && Date.parse(a) === Date.parse(b);

/** What every view must say, and how they must agree with each other. */
function judgeSnapshot(s: Snapshot) {
  ensure(s.environments.length === 2 && s.environments.every((e, i) => e?.environment === NETWORKS[i]), `GET /dashboard/environments lists ${s.environments.map((e) => e?.environment).join(', ')}: both networks, testnet first`);
  ensure(s.status.length === 2 && s.status.every((e, i) => e?.environment === NETWORKS[i]), `the status report lists ${s.status.map((e) => e?.environment).join(', ')}: both networks, testnet first`);
  for (const [i, network] of NETWORKS.entries()) {
    const e = s.environments[i];
    const st = s.status[i];
    ensure(e.name === META[network].name && e.keyEnvironment === META[network].keyEnvironment, `${network} is shown as ${e.name} with ${e.keyEnvironment} keys, not ${META[network].name} with ${META[network].keyEnvironment} keys`);
    ensure(typeof e.apiBaseUrl === 'string' && /^https?:\/\/[^/?#]+$/.test(e.apiBaseUrl), `${network}'s apiBaseUrl ${e.apiBaseUrl} is not a base URL`);
    ensure(e.status === st.status, `${network} is ${e.status} in the environments list but ${st.status} in the status report`);
    if (e.status === 'active') {
      ensure(typeof e.provisionedAt === 'string' && sameInstant(e.provisionedAt, st.provisionedAt), `active ${network} shows provisionedAt ${e.provisionedAt} in the list and ${st.provisionedAt} in the status report`);
    } else {
      ensure(e.provisionedAt === null, `${network} is ${e.status} yet the environments list shows provisionedAt ${e.provisionedAt}`);
      ensure(!('provisionedAt' in st), `${network} is ${st.status} yet the status report has provisionedAt`);
    }
  }
  ensure(s.environments[0].apiBaseUrl !== s.environments[1].apiBaseUrl, 'both environments have the same apiBaseUrl');
  const provisioned = s.environments.filter((e) => e.status !== 'not_provisioned');
  ensure(
    s.contracts.length === provisioned.length && s.contracts.every((c, i) => c?.environment === provisioned[i]?.environment),
    `GET /dashboard/contracts lists ${s.contracts.map((c) => `${c?.environment} ${c?.status}`).join(', ') || 'nothing'}; the provisioned environments are ${provisioned.map((e) => e.environment).join(', ') || 'none'} (testnet first)`,
  );
  for (const c of s.contracts) {
    const e = s.environments.find((x) => x.environment === c.environment);
    ensure(c.tenantId === s.tenantId, `contract ${c.id} names tenant ${c.tenantId}`);
    ensure(c.status === e.status, `contract ${c.id} is ${c.status}; ${c.environment} is ${e.status}`);
    ensure(e.status === 'active' ? sameInstant(c.provisionedAt, e.provisionedAt) : c.provisionedAt === null, `contract ${c.id} shows provisionedAt ${c.provisionedAt}; ${c.environment} ${e.status} since ${e.provisionedAt}`);
  }
}

/** A GET with the key to a base URL: 401 means the key is not accepted there. */
async function keyAnswerAt(ctx: CheckContext, baseUrl: string, key = ctx.config.apiKey!) {
  const client = createClient(ctx.recorder, baseUrl);
  return client.get(`/api/v1/balance/derive/conf-env-${ctx.runTag}`, { headers: ctx.keyHeaders(key) });
}

/** The status the views show for a network. */
const statusOf = (s: Snapshot, network: string) => s.environments.find((e) => e.environment === network)?.status;

function unchanged(before: Snapshot, after: Snapshot, why: string) {
  for (const network of NETWORKS) {
    const a = before.environments.find((e) => e.environment === network);
    const b = after.environments.find((e) => e.environment === network);
    ensure(a.status === b.status && (a.provisionedAt === b.provisionedAt || sameInstant(a.provisionedAt, b.provisionedAt)), `${why} was refused but ${network} went from ${a.status} to ${b.status}`);
  }
  ensure(before.contracts.map((c) => `${c.id} ${c.status}`).join() === after.contracts.map((c) => `${c.id} ${c.status}`).join(), `${why} was refused but the contracts changed`);
}

// ENV-002 deletes the endpoints it created as soon as it ends.
export const environmentChecks: Check[] = ([
  defineCheck({
    id: 'ENV-001',
    rule: 'GET /dashboard/environments, the status report and GET /dashboard/contracts agree: both networks (testnet first) named Sandbox/Production with test/live keys and distinct base URLs, provisionedAt exactly when active; contracts list only the provisioned ones; the key is accepted at its environment\'s apiBaseUrl and refused (401) at the other.',
    source: 'seed 004 Check Environment Status, List Environments; openapi op listEnvironments, getEnvironmentStatus, listContracts',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const s = await snapshot(dash, await tenantOf(dash));
      judgeSnapshot(s);
      if (!ctx.config.apiKey || !ctx.keyEnvironment) return;
      const own = s.environments.find((e) => e.keyEnvironment === ctx.keyEnvironment);
      const other = s.environments.find((e) => e.keyEnvironment !== ctx.keyEnvironment);
      if (own.status === 'active') {
        const res = await keyAnswerAt(ctx, own.apiBaseUrl);
        ensure(res.status !== 401 && res.status !== 403, `the --api-key gets ${res.status} at its own environment's apiBaseUrl ${own.apiBaseUrl}`);
      }
      const res = await keyAnswerAt(ctx, other.apiBaseUrl);
      ensure(res.status === 401, `a ${ctx.keyEnvironment} key gets ${res.status} at the ${other.environment} apiBaseUrl, not 401`);
    },
  }),

  defineCheck({
    id: 'ENV-002',
    rule: 'Provisioning: an environment that is provisioning or active answers 409 environment_already_provisioned and nothing changes; a live key before mainnet is active is 409 environment_not_active. When mainnet is not provisioned and --provision is given, this check PROVISIONS PRODUCTION (irreversible on a real deployment): 201 with status provisioning, then provisioning → active, environment.activated to live endpoints only (data = the status report\'s), contracts list it, live keys can be created and are accepted at its apiBaseUrl.',
    source: 'seed 004 Provision an Environment, Status Values; openapi op provisionEnvironment; openapi #/webhooks/environment.activated',
    needs: ['dashboard', 'writes', 'webhooks'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const tenantId = await tenantOf(dash);
      let before = await snapshot(dash, tenantId);
      for (const e of before.environments.filter((x) => x.status === 'active' || x.status === 'provisioning')) {
        expectProblem(await dash.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: e.environment } }), 409, 'environment_already_provisioned', `provisioning ${e.status} ${e.environment}`);
        const after = await snapshot(dash, tenantId);
        unchanged(before, after, `provisioning ${e.status} ${e.environment}`);
        before = after;
      }
      const mainnet = statusOf(before, 'mainnet');
      if (mainnet !== 'not_provisioned' && mainnet !== 'error') {
        throw new Inconclusive(`mainnet is already ${mainnet}: its activation cannot be observed (the 409s were checked)`);
      }
      // Provisioning cannot be undone: only when the user said so.
      if (!ctx.config.provision) throw new Inconclusive(`mainnet is ${mainnet}: give --provision to let this check provision Production and observe its activation (irreversible; the 409s were checked)`);
      const live = await createHook(ctx, 'activation-live', { environment: 'live', events: ['environment.activated'] });
      const test = await createHook(ctx, 'activation-test', { environment: 'test', events: ['environment.activated'] });
      const name = `conformance-live-early-${ctx.runTag}`;
      const early = await dash.post('/dashboard/api-keys', { headers: CSRF, json: { name, environment: 'live' } });
      if (early.status === 201 && typeof early.body?.data?.id === 'string') {
        const id = early.body.data.id;
        ctx.track('api key', id, name, () => dash.delete(`/dashboard/api-keys/${id}`, { headers: CSRF }));
      }
      expectProblem(early, 409, 'environment_not_active', 'creating a live key before mainnet is active');

      const started = Date.now();
      const res = await dash.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } });
      expectStatus(res, 201, 'provisioning mainnet');
      const d = res.body?.data ?? {};
      ensure(d.tenantId === tenantId && d.environment === 'mainnet' && d.status === 'provisioning', `provisioning answered tenant ${d.tenantId}, ${d.environment}, status ${d.status}`);
      const seen = new Set<string>();
      const done = await pollUntil(
        ctx,
        async () => {
          const s = await snapshot(dash, tenantId);
          seen.add(statusOf(s, 'mainnet'));
          return s;
        },
        (s) => ['active', 'error'].includes(statusOf(s, 'mainnet')),
        'mainnet did not become active or error',
        ACTIVATION_WAIT_MS,
      );
      ensure([...seen].every((x) => ['provisioning', 'active', 'error'].includes(x)), `after provisioning, mainnet was ${[...seen].join(', ')}`);
      judgeSnapshot(done);
      if (statusOf(done, 'mainnet') === 'error') {
        expectStatus(await dash.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } }), 201, 'provisioning mainnet again after an error');
        throw new Inconclusive('mainnet provisioning ended in error (provisioning it again was accepted); its activation could not be observed');
      }
      const status = done.status.find((e) => e.environment === 'mainnet');
      const event = await waitAt(live, ofType('environment.activated', (x) => x?.environment === 'mainnet'));
      const problems = eventProblems(event.body);
      ensure(problems.length === 0, `environment.activated does not match its schema: ${problems.slice(0, 3).join('; ')}`);
      ensure(event.body.environment === 'live', `environment.activated for mainnet says environment ${event.body.environment}, not live`);
      const data = event.body.data;
      ensure(data.tenantId === tenantId && data.status === 'active' && sameInstant(data.provisionedAt, status.provisionedAt), `environment.activated says ${data.tenantId} ${data.status} at ${data.provisionedAt}; the status report says active at ${status.provisionedAt}`);

      const again = await snapshot(dash, tenantId);
      expectProblem(await dash.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } }), 409, 'environment_already_provisioned', 'provisioning active mainnet');
      unchanged(again, await snapshot(dash, tenantId), 'provisioning active mainnet');

      const key = await ctx.createKey({ name: 'live-after-activation', environment: 'live' });
      const base = done.environments.find((e) => e.environment === 'mainnet').apiBaseUrl;
      const used = await keyAnswerAt(ctx, base, key.fullKey);
      ensure(used.status !== 401 && used.status !== 403, `a live key gets ${used.status} at the active mainnet's apiBaseUrl`);

      await settle(ctx, started, event);
      const wrong = arrivedAt(test).filter(ofType('environment.activated', (x) => x?.environment === 'mainnet'));
      ensure(wrong.length === 0, 'a test endpoint received the activation of mainnet');
    },
  }),
] as Check[]).map(deletingItsEndpoints);
