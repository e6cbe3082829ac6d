// Account set-up over the public API, for tests that need a logged-in dashboard client.
import type { HttpClient } from './http-client.ts';
import type { TestSandbox } from './test-sandbox.ts';

export async function login(client: HttpClient, email: string, password: string) {
  const res = await client.post('/dashboard/auth/login', { json: { email, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return res.body.data as { id: string; tenantId: string; email: string };
}

export function loginDemo(sb: TestSandbox, client: HttpClient = sb.dashboard) {
  const demo = sb.demo ?? sb.restoredDemo;
  if (!demo) throw new Error('this sandbox has no demo account (started without a seed)');
  return login(client, demo.email, demo.password);
}

/** A second, approved and verified tenant, signed up the way an integrator does it. */
export async function signUp(sb: TestSandbox, email: string, password = 'correct horse battery staple') {
  const client = sb.newDashboardClient();
  await client.post('/dashboard/auth/request-access', {
    json: { name: 'Jane Doe', email, organization: 'Acme Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'Record usage before invoices go out.' },
  });
  const mail = (kind: string) => [...sb.services.store.state.outbox].reverse().find((m) => m.to === email && m.kind === kind)!;
  const reg = await client.post('/dashboard/auth/register', {
    json: { accessToken: mail('access').token, email, password, name: 'Jane Doe' },
  });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const verified = await client.get(`/dashboard/auth/verify?token=${encodeURIComponent(mail('verify').token)}`);
  if (verified.status !== 200) throw new Error(`verify failed: ${verified.status} ${verified.text}`);
  const user = await login(client, email, password);
  return { client, user };
}
