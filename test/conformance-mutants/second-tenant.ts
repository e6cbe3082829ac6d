// A second tenant for the isolation checks, signed up through the public Dashboard API the way
// an integrator does it (access request, register, verify), with the tokens from the sandbox's
// outbox (a control-surface read: the harness may use it, the suite never does).
export async function signUpSecondTenant(productionUrl: string, control: (method: string, path: string) => Promise<any>) {
  const email = 'second-tenant@example.com';
  const password = 'second tenant battery staple';
  const post = async (path: string, json: unknown) => {
    const res = await fetch(`${productionUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
    if (!res.ok) throw new Error(`POST ${path} → ${res.status}`);
  };
  const token = async (kind: string) => {
    const got = await control('GET', `/outbox?to=${encodeURIComponent(email)}`);
    const mail = [...((got.data ?? got) as any[])].reverse().find((m) => m.kind === kind);
    if (!mail) throw new Error(`no ${kind} e-mail for ${email} in the outbox`);
    return mail.token as string;
  };
  await post('/dashboard/auth/request-access', { name: 'Second Tenant', email, organization: 'Second Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'The conformance isolation checks.' });
  await post('/dashboard/auth/register', { accessToken: await token('access'), email, password, name: 'Second Tenant' });
  const verified = await fetch(`${productionUrl}/dashboard/auth/verify?token=${encodeURIComponent(await token('verify'))}`);
  if (!verified.ok) throw new Error(`verify → ${verified.status}`);
  return { email, password };
}
