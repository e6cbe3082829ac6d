// Code samples for every operation of the contract, generated from it: curl, the TypeScript SDK
// and plain fetch for each API operation; for each webhook event, a curl command that sends your
// endpoint a correctly signed delivery and two receivers that verify it (SDK and node:crypto).
// Paths, methods, parameters, example values, bodies and authentication all come from the
// bundle. The only table written by hand is SDK_CALLS: which SDK method calls an operation,
// which is the SDK's API, not the contract's. The build fails for an operation without one.
import { listOperations, type Json, type Operation } from './contract.ts';

export type CodeSample = { lang: string; label: string; source: string };

/** The package name the docs tell users to install (`npm install @pacspace-io/sdk`). */
export const SDK_PACKAGE = '@pacspace-io/sdk';
/** Where Dashboard API requests go (the Dashboard API is on Production only). */
export const DASHBOARD_URL = 'https://app.pacspace.io';
export const COOKIE_JAR = 'pacspace-dashboard-cookies.txt';
export const LABELS = { curl: 'curl', sdk: 'TypeScript SDK', fetch: 'fetch', crypto: 'node:crypto' } as const;

// ---------------------------------------------------------------------------------------------
// Literals

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JavaScript single-quoted string literal. */
export function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

/** A JavaScript literal for a JSON value, on one line when short, else indented. */
export function js(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const oneLine = `[${value.map((v) => js(v)).join(', ')}]`;
    if (oneLine.length <= 72 && !oneLine.includes('\n')) return oneLine;
    return `[\n${value.map((v) => `${inner}${js(v, inner)},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [IDENTIFIER.test(k) ? k : quote(k), v] as const);
  if (!entries.length) return '{}';
  const oneLine = `{ ${entries.map(([k, v]) => `${k}: ${js(v)}`).join(', ')} }`;
  if (oneLine.length <= 72 && !oneLine.includes('\n')) return oneLine;
  return `{\n${entries.map(([k, v]) => `${inner}${k}: ${js(v, inner)},`).join('\n')}\n${indent}}`;
}

/** A single-quoted shell word. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// The SDK's method for each operation

type Values = {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  header: Record<string, unknown>;
  body: Json;
};

type SdkCall = {
  /** The result's variable name. */
  name: string;
  /** The call expression, given the operation's example values. */
  call: (v: Values) => string;
};

/** `{ page, limit }` and other optional arguments, leaving out what the example does not have. */
function options(values: Record<string, unknown>, indent = ''): string {
  const present = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
  return Object.keys(present).length ? `, ${js(present, indent)}` : '';
}

const SDK_CALLS: Record<string, SdkCall> = {
  // Balance API (`pac` is a PacSpace client)
  recordDelta: {
    name: 'receipt',
    call: ({ body: b }) =>
      `pac.balance.emit(${js(b.customerId)}, ${js(b.delta)}, ${js(b.reason)}${options({ referenceId: b.referenceId, metadata: b.metadata })})`,
  },
  deriveBalance: { name: 'balance', call: ({ path }) => `pac.balance.derive(${js(path.customerId)})` },
  compareBalances: {
    name: 'report',
    call: ({ body: b }) =>
      `pac.balance.compare(${js(b.customerId ?? null)}, { yours: ${js(b.yourBalance)}, theirs: ${js(b.theirBalance)} }${options({ startingBalance: b.startingBalance })})`,
  },
  createCheckpoint: { name: 'checkpoint', call: ({ body: b }) => `pac.balance.checkpoint(${js(b.customerId)})` },
  getReceipt: { name: 'receipt', call: ({ path }) => `pac.receipts.get(${js(path.receiptId)})` },
  getCheckpoint: { name: 'checkpoint', call: ({ path }) => `pac.checkpoints.get(${js(path.checkpointId)})` },
  listCheckpointReceipts: {
    name: 'page',
    call: ({ path, query }) => `pac.checkpoints.listReceipts(${js(path.checkpointId)}${options({ page: query.page, limit: query.limit })})`,
  },
  verifyProofRoot: {
    name: 'verification',
    call: ({ path }) => `verifyProofRoot(${js(path.proofRoot)}, { baseUrl: process.env.PACSPACE_API_BASE_URL })`,
  },
  // Dashboard API (`dashboard` is a PacSpaceDashboard client)
  requestAccess: { name: 'accepted', call: ({ body }) => `dashboard.auth.requestAccess(${js(body)})` },
  register: { name: 'user', call: ({ body }) => `dashboard.auth.register(${js(body)})` },
  login: { name: 'user', call: ({ body: b }) => `dashboard.auth.login(${js(b.email)}, ${js(b.password)})` },
  verifyEmail: { name: 'verification', call: ({ query }) => `dashboard.auth.verifyEmail(${js(query.token)})` },
  resendVerificationEmail: { name: 'accepted', call: ({ body: b }) => `dashboard.auth.resendVerificationEmail(${js(b.email)})` },
  requestPasswordReset: { name: 'accepted', call: ({ body: b }) => `dashboard.auth.requestPasswordReset(${js(b.email)})` },
  resetPassword: { name: 'result', call: ({ body: b }) => `dashboard.auth.resetPassword(${js(b.token)}, ${js(b.password)})` },
  refreshSession: { name: 'session', call: () => `dashboard.auth.refresh()` },
  logout: { name: 'result', call: () => `dashboard.auth.logout()` },
  getCurrentUser: { name: 'me', call: () => `dashboard.auth.me()` },
  listApiKeys: { name: 'page', call: ({ query }) => `dashboard.apiKeys.list(${js({ page: query.page, limit: query.limit })})` },
  createApiKey: { name: 'key', call: ({ body }) => `dashboard.apiKeys.create(${js(body)})` },
  getApiKey: { name: 'key', call: ({ path }) => `dashboard.apiKeys.get(${js(path.id)})` },
  deleteApiKey: { name: 'result', call: ({ path }) => `dashboard.apiKeys.delete(${js(path.id)})` },
  regenerateApiKey: { name: 'key', call: ({ path }) => `dashboard.apiKeys.regenerate(${js(path.id)})` },
  toggleApiKey: { name: 'key', call: ({ path }) => `dashboard.apiKeys.toggle(${js(path.id)})` },
  listEnvironments: { name: 'environments', call: () => `dashboard.environments.list()` },
  listContracts: { name: 'contracts', call: () => `dashboard.environments.contracts()` },
  provisionEnvironment: { name: 'result', call: ({ body: b }) => `dashboard.environments.provision(${js(b.environment)})` },
  getEnvironmentStatus: { name: 'status', call: ({ path }) => `dashboard.environments.status(${js(path.tenantId)})` },
  listWebhookEndpoints: { name: 'page', call: ({ query }) => `dashboard.webhooks.list(${js({ page: query.page, limit: query.limit })})` },
  createWebhookEndpoint: { name: 'endpoint', call: ({ body }) => `dashboard.webhooks.create(${js(body)})` },
  getWebhookEndpoint: { name: 'endpoint', call: ({ path }) => `dashboard.webhooks.get(${js(path.id)})` },
  updateWebhookEndpoint: { name: 'endpoint', call: ({ path, body }) => `dashboard.webhooks.update(${js(path.id)}, ${js(body)})` },
  deleteWebhookEndpoint: { name: 'result', call: ({ path }) => `dashboard.webhooks.delete(${js(path.id)})` },
  rotateWebhookSecret: {
    name: 'rotated',
    call: ({ path, body }) => `dashboard.webhooks.rotateSecret(${js(path.id)}${options({ overlapSeconds: body?.overlapSeconds })})`,
  },
  sendWebhookTestEvent: {
    name: 'queued',
    call: ({ path, body }) => `dashboard.webhooks.sendTest(${js(path.id)}${options({ eventType: body?.eventType })})`,
  },
  listWebhookDeliveries: {
    name: 'page',
    call: ({ path, query }) => `dashboard.webhooks.deliveries(${js(path.id)}${options({ page: query.page, limit: query.limit })})`,
  },
  getBillingSummary: { name: 'billing', call: () => `dashboard.billing.get()` },
};

// ---------------------------------------------------------------------------------------------
// API operations

function valuesOf(op: Operation): Values {
  return {
    path: Object.fromEntries(op.pathParams.map((p) => [p.name, p.value])),
    query: Object.fromEntries(op.queryParams.map((p) => [p.name, p.value])),
    header: Object.fromEntries(op.headerParams.map((p) => [p.name, p.value])),
    body: op.body?.value,
  };
}

/** The body to send: the first example, left out when the body is optional and the example empty. */
function bodyToSend(op: Operation): Json | undefined {
  if (!op.body) return undefined;
  const value = op.body.value;
  const empty = value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
  return !op.body.required && empty ? undefined : value;
}

function pathWithValues(op: Operation): string {
  const values = valuesOf(op).path;
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(values[name])));
  const query = new URLSearchParams(op.queryParams.map((p): [string, string] => [p.name, String(p.value)])).toString();
  return query ? `${path}?${query}` : path;
}

const isBalance = (op: Operation) => op.auth === 'api-key' || op.auth === 'public-balance';

function curlSample(op: Operation): string {
  const url = isBalance(op) ? `$PACSPACE_API_BASE_URL${pathWithValues(op)}` : `${DASHBOARD_URL}${pathWithValues(op)}`;
  const method = op.method.toUpperCase();
  const lines = [`curl ${method === 'GET' ? '' : `-X ${method} `}"${url}"`];
  if (op.auth === 'api-key') lines.push(`-H "X-Api-Key: $PACSPACE_API_KEY"`);
  if (op.auth === 'session') lines.push(`-b ${COOKIE_JAR}`);
  // Login stores the session cookies; refresh and logout replace or clear them.
  if (op.operationId === 'login' || (op.auth === 'session' && op.object.security?.some((r: Json) => 'DashboardRefresh' in r)) || op.operationId === 'logout') {
    lines.push(`-c ${COOKIE_JAR}`);
  }
  if (op.csrf) lines.push(`-H "X-Pacspace-CSRF: 1"`);
  for (const h of op.headerParams) lines.push(`-H "${h.name}: ${String(h.value)}"`);
  const body = bodyToSend(op);
  if (body !== undefined) {
    lines.push(`-H "Content-Type: application/json"`);
    lines.push(`-d ${shellQuote(JSON.stringify(body, null, 2).replace(/\n/g, '\n  '))}`);
  }
  return lines.join(' \\\n  ');
}

function sdkSample(op: Operation): string {
  const mapping = SDK_CALLS[op.operationId];
  if (!mapping) throw new Error(`docs: no SDK call for operation ${op.operationId}; add it to SDK_CALLS in docs/build/code-samples.ts`);
  const call = mapping.call(valuesOf(op));
  const show = `const ${mapping.name} = await ${call};\nconsole.log(${mapping.name});`;
  switch (op.auth) {
    case 'api-key':
      return [
        `import { PacSpace } from '${SDK_PACKAGE}';`,
        '',
        '// The key prefix picks the environment: pk_test_ → Sandbox, pk_live_ → Production.',
        '// PACSPACE_API_BASE_URL is optional: your Sandbox URL, or a local sandbox.',
        'const pac = new PacSpace({ apiKey: process.env.PACSPACE_API_KEY!, baseUrl: process.env.PACSPACE_API_BASE_URL });',
        '',
        show,
      ].join('\n');
    case 'public-balance':
      return [`import { verifyProofRoot } from '${SDK_PACKAGE}';`, '', '// Public: no API key needed, anyone can check a proof root.', show].join('\n');
    case 'public-dashboard':
      return [`import { PacSpaceDashboard } from '${SDK_PACKAGE}';`, '', `const dashboard = new PacSpaceDashboard(); // ${DASHBOARD_URL}`, '', show].join('\n');
    case 'session':
      return [
        `import { PacSpaceDashboard } from '${SDK_PACKAGE}';`,
        '',
        `const dashboard = new PacSpaceDashboard(); // ${DASHBOARD_URL}`,
        '// Keeps the httpOnly session cookies in memory and sends X-Pacspace-CSRF: 1 on unsafe methods.',
        'await dashboard.auth.login(process.env.PACSPACE_EMAIL!, process.env.PACSPACE_PASSWORD!);',
        '',
        show,
      ].join('\n');
    default:
      throw new Error(`sdkSample: unexpected ${op.auth}`);
  }
}

function fetchSample(op: Operation): string {
  const balance = isBalance(op);
  const url = balance ? `\`\${process.env.PACSPACE_API_BASE_URL}${pathWithValues(op)}\`` : quote(`${DASHBOARD_URL}${pathWithValues(op)}`);
  const headers: string[] = [];
  if (op.auth === 'api-key') headers.push(`'X-Api-Key': process.env.PACSPACE_API_KEY`);
  if (op.csrf) headers.push(`'X-Pacspace-CSRF': '1'`);
  for (const h of op.headerParams) {
    // A fresh key per operation: reusing one with another body is a 409.
    headers.push(`${quote(h.name)}: ${h.name.toLowerCase() === 'idempotency-key' ? 'crypto.randomUUID()' : quote(String(h.value))}`);
  }
  const body = bodyToSend(op);
  if (body !== undefined) headers.push(`'Content-Type': 'application/json'`);
  const init: string[] = [`  method: '${op.method.toUpperCase()}',`];
  if (op.auth === 'session') init.push(`  credentials: 'include', // the httpOnly session cookies`);
  if (headers.length) init.push(`  headers: {\n${headers.map((h) => `    ${h},`).join('\n')}\n  },`);
  if (body !== undefined) init.push(`  body: JSON.stringify(${js(body, '  ')}),`);
  const lines = [];
  if (op.auth === 'session') lines.push('// In the browser, on the dashboard origin, after POST /dashboard/auth/login.');
  if (op.auth === 'public-balance') lines.push('// Public: no API key needed.');
  lines.push(
    `const response = await fetch(${url}, {\n${init.join('\n')}\n});`,
    'const body = await response.json();',
    '// Errors are application/problem+json with a stable code and a requestId.',
    'if (!response.ok) throw new Error(`${response.status} ${body.code}: ${body.detail} (${body.requestId})`);',
    'console.log(body.data);',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Webhook events

function header(op: Operation, name: string): string {
  const found = op.headerParams.find((h) => h.name.toLowerCase() === name.toLowerCase());
  return found === undefined ? '' : String(found.value);
}

function webhookCurlSample(op: Operation): string {
  const body = JSON.stringify(op.body?.value);
  const event = op.body?.value ?? {};
  return [
    `# Sends your endpoint a ${op.path} delivery signed exactly as PacSpace signs it:`,
    '# v1 = HMAC-SHA256(signing secret, timestamp + "." + raw body), as lowercase hex.',
    `BODY=${shellQuote(body)}`,
    'TIMESTAMP=$(date +%s)',
    `SIGNATURE=$(printf '%s.%s' "$TIMESTAMP" "$BODY" | openssl dgst -sha256 -hmac "$PACSPACE_WEBHOOK_SECRET" | sed 's/^.*= //')`,
    [
      'curl -X POST "$PACSPACE_WEBHOOK_URL"',
      '-H "Content-Type: application/json"',
      '-H "X-PacSpace-Timestamp: $TIMESTAMP"',
      '-H "X-PacSpace-Signature: v1=$SIGNATURE"',
      `-H "X-PacSpace-Event-Id: ${event.id ?? header(op, 'X-PacSpace-Event-Id')}"`,
      `-H "X-PacSpace-Event-Type: ${op.path}"`,
      `-H "X-PacSpace-Delivery-Id: ${header(op, 'X-PacSpace-Delivery-Id')}"`,
      '-d "$BODY"',
    ].join(' \\\n  '),
  ].join('\n');
}

function webhookSdkSample(op: Operation): string {
  return `import { createServer } from 'node:http';
import { verifyWebhook, WebhookVerificationError } from '${SDK_PACKAGE}';

// The endpoint's signing secret (whsec_…): shown once, when the endpoint is created or rotated.
// During a rotation pass both: [newSecret, previousSecret].
const secret = process.env.PACSPACE_WEBHOOK_SECRET!;

createServer(async (req, res) => {
  // Verify the raw body exactly as received, never a re-serialized object.
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const event = await verifyWebhook(Buffer.concat(chunks), req.headers, secret);
    if (event.type === ${quote(op.path)}) {
      console.log(event.id, event.data); // typed as the ${op.path} payload
    }
    res.writeHead(204).end(); // answer 2xx within 10 seconds; deduplicate on event.id
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    res.writeHead(400).end(error.code); // bad_signature, timestamp_too_old, …
  }
}).listen(Number(process.env.PORT ?? 3000));`;
}

function webhookCryptoSample(op: Operation): string {
  return `import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.PACSPACE_WEBHOOK_SECRET; // whsec_…, the whole string is the HMAC key

/** True if any v1= signature matches and the timestamp is within 300 seconds of our clock. */
function verify(rawBody, headers) {
  const timestamp = String(headers['x-pacspace-timestamp'] ?? '');
  if (!/^\\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', secret).update(\`\${timestamp}.\${rawBody}\`).digest();
  return String(headers['x-pacspace-signature'] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .some((part) => {
      const given = Buffer.from(part.slice(3), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

createServer(async (req, res) => {
  req.setEncoding('utf8');
  let rawBody = '';
  for await (const chunk of req) rawBody += chunk;
  if (!verify(rawBody, req.headers)) return res.writeHead(400).end();
  const event = JSON.parse(rawBody);
  if (event.type === ${quote(op.path)}) console.log(event.id, event.data);
  res.writeHead(204).end(); // answer 2xx within 10 seconds; deduplicate on event.id
}).listen(Number(process.env.PORT ?? 3000));`;
}

const WEBHOOK_SAMPLE_TITLES: Record<string, string> = {
  [LABELS.curl]: 'Send your endpoint a signed test delivery (set `PACSPACE_WEBHOOK_URL` and `PACSPACE_WEBHOOK_SECRET`):',
  [LABELS.sdk]: 'Receive and verify it with the SDK:',
  [LABELS.crypto]: 'Or without the SDK, with `node:crypto`:',
};

function webhookSamplesMarkdown(samples: CodeSample[]): string {
  const fence = (lang: string) => ({ Shell: 'sh', TypeScript: 'ts', JavaScript: 'js' })[lang] ?? '';
  return [
    '**Code samples**',
    ...samples.map((s) => `${WEBHOOK_SAMPLE_TITLES[s.label] ?? s.label}\n\n\`\`\`${fence(s.lang)}\n${s.source}\n\`\`\``),
  ].join('\n\n');
}

// ---------------------------------------------------------------------------------------------

export function codeSamplesFor(op: Operation): CodeSample[] {
  if (op.kind === 'webhook') {
    return [
      { lang: 'Shell', label: LABELS.curl, source: webhookCurlSample(op) },
      { lang: 'TypeScript', label: LABELS.sdk, source: webhookSdkSample(op) },
      { lang: 'JavaScript', label: LABELS.crypto, source: webhookCryptoSample(op) },
    ];
  }
  return [
    { lang: 'Shell', label: LABELS.curl, source: curlSample(op) },
    { lang: 'TypeScript', label: LABELS.sdk, source: sdkSample(op) },
    { lang: 'JavaScript', label: LABELS.fetch, source: fetchSample(op) },
  ];
}

/**
 * The docs-only copy of the bundle: the same contract with `x-codeSamples` on every operation.
 * The public bundle (generated/) is not changed.
 */
export function withCodeSamples(spec: Json): { spec: Json; operations: Array<Operation & { samples: CodeSample[] }> } {
  const copy = structuredClone(spec);
  const operations = listOperations(copy).map((op) => {
    const samples = codeSamplesFor(op);
    op.object['x-codeSamples'] = samples;
    // Redoc shows only the example payload in a webhook's sample panel: its samples go into
    // the description as well.
    if (op.kind === 'webhook') op.object.description = `${op.object.description ?? ''}\n\n${webhookSamplesMarkdown(samples)}`;
    return { ...op, samples };
  });
  const unused = Object.keys(SDK_CALLS).filter((id) => !operations.some((op) => op.operationId === id));
  if (unused.length) throw new Error(`docs: SDK_CALLS names operations the contract does not have: ${unused.join(', ')}`);
  return { spec: copy, operations };
}
