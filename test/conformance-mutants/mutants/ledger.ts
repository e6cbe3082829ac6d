// Mutants of the ledger rows (R-LEDG, R-AMT, R-IDEM, R-PROOF, R-BILL): each breaks exactly one
// rule row of conformance/rules/*.ts, the way a buggy server would — many in only ONE place a
// value appears (the listing, page 2, negative amounts, a later checkpoint), which is what a
// check that reads a value in one place only would miss.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { jcs, leafOf, units } from '../../../conformance/lib/proofs.ts';
import {
  answer,
  defineMutants,
  header,
  isOperation,
  json,
  mapJson,
  onRequest,
  onResponse,
  queryOf,
  withHeaders,
  withJson,
  type Delivery,
  type Mutant,
  type MutantContext,
  type ProxiedRequest,
  type ProxiedResponse,
} from '../mutant.ts';

const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const EMPTY_ROOT = sha256().toString('hex');
const MAX = 10n ** 15n * 100_000_000n;

/** A problem+json refusal as the server writes them (with a requestId), plus extra members. */
function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): ProxiedResponse {
  const requestId = `req_${randomBytes(8).toString('hex')}`;
  return answer(status, { type: `https://docs.pacspace.io/errors/${code}`, title: code, status, detail, code, requestId, ...extra }, { 'content-type': 'application/problem+json', 'x-request-id': requestId });
}

/** The response's `data`, changed in place by `change` when the answer is a success. */
const onData = (res: ProxiedResponse, change: (data: any) => void) => (res.status < 300 ? mapJson(res, (b) => (b?.data ? change(b.data) : undefined)) : res);

/** A request body (JSON), or undefined. */
const bodyOf = (req: ProxiedRequest) => json(req);

/** The raw JSON text of a request with member `name`'s literal replaced (numbers are kept as written otherwise). */
const literalOf = (req: ProxiedRequest, name: string) => new RegExp(`"${name}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*"|-?[0-9][0-9.eE+-]*)`).exec(req.body.toString('utf8'))?.[1];
const replaceLiteral = (req: ProxiedRequest, name: string, literal: string): ProxiedRequest => ({
  ...req,
  body: Buffer.from(req.body.toString('utf8').replace(new RegExp(`("${name}"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|-?[0-9][0-9.eE+-]*)`), `$1${literal}`)),
});

/** What a server summing binary doubles would write: the value through parseFloat, 2 to 8 decimals. */
const viaDouble = (s: string) => {
  const fixed = parseFloat(s).toFixed(8).replace(/0+$/, '');
  const [int, frac = ''] = fixed.split('.');
  return `${int}.${frac.padEnd(2, '0')}`;
};
const padTo8 = (s: string) => (typeof s === 'string' && /^-?\d+\.\d+$/.test(s) ? `${s.split('.')[0]}.${s.split('.')[1]!.padEnd(8, '0')}` : s);

/** A leaf hash computed some other way, replaced wherever receipts appear in a body. */
function rewriteLeafHashes(value: any, hash: (receipt: any) => string) {
  const visit = (o: any) => {
    if (o && typeof o === 'object' && typeof o.leafHash === 'string' && typeof o.receiptId === 'string') o.leafHash = hash(o);
  };
  const data = value?.data;
  if (Array.isArray(data?.items)) data.items.forEach(visit);
  else visit(data);
}

/** The api key of a request (for extra requests a mutant sends as the same caller). */
const apiKeyOf = (req: ProxiedRequest) => header(req, 'x-api-key');

/** Every receipt of a checkpoint, read upstream as the same caller. */
async function receiptsOf(ctx: MutantContext, req: ProxiedRequest, checkpointId: string): Promise<any[]> {
  const res = await ctx.forward({ listener: req.listener, method: 'GET', url: `/api/v1/checkpoints/${checkpointId}/receipts?limit=1000`, headers: { 'x-api-key': apiKeyOf(req) ?? '' }, body: Buffer.alloc(0) });
  return json(res)?.data?.items ?? [];
}

/** The RFC 6962 root over leaves, with node hashes made by `node`. */
function rootWith(leaves: Buffer[], node: (l: Buffer, r: Buffer) => Buffer): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(rootWith(leaves.slice(0, k), node), rootWith(leaves.slice(k), node));
}

/** A mutant whose createCheckpoint answer carries a root computed another way from the checkpoint's receipts. */
const checkpointRootMutant = (id: string, rules: string[], description: string, root: (leaves: Buffer[]) => Buffer): Mutant => ({
  id,
  rules,
  description,
  async exchange(req, next, ctx) {
    const res = await next(req);
    if (!isOperation(req, 'createCheckpoint') || res.status !== 201) return res;
    const cp = json(res)?.data;
    const receipts = await receiptsOf(ctx, req, cp.checkpointId);
    const leaves = receipts.map((r) => Buffer.from(r.leafHash, 'hex'));
    return onData(res, (d) => void (d.proofRoot = root(leaves).toString('hex')));
  },
});


/** Remembers each webhook endpoint's signing secret by the URL it was registered with (as a server holding them would). */
function rememberEndpointSecrets(req: ProxiedRequest, res: ProxiedResponse, ctx: MutantContext) {
  if (!isOperation(req, 'createWebhookEndpoint') || res.status !== 201) return;
  const secret = json(res)?.data?.secret;
  for (const url of [bodyOf(req)?.url, json(res)?.data?.url]) if (typeof url === 'string') ctx.memory.set(`secret:${url}`, secret);
}

/** The delivery with this event body, signed afresh with its endpoint's secret (as the server would sign what it sends). */
function resigned(d: Delivery, event: unknown, ctx: MutantContext, headers: Record<string, string> = {}): Delivery {
  const raw = JSON.stringify(event);
  const secret = ctx.memory.get(`secret:${d.url}`);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = secret ? `v1=${createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex')}` : header(d, 'x-pacspace-signature') ?? '';
  return { ...d, body: Buffer.from(raw), headers: { ...d.headers, ...headers, 'x-pacspace-timestamp': timestamp, 'x-pacspace-signature': signature } };
}

const isRecord = (req: ProxiedRequest) => isOperation(req, 'recordDelta');
const keyOf = (req: ProxiedRequest) => header(req, 'idempotency-key');

const formatUnits = (v: bigint) => {
  const abs = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${abs / 100_000_000n}.${(abs % 100_000_000n).toString().padStart(8, '0').replace(/0+$/, '').padEnd(2, '0')}`;
};

/**
 * A delta with an Idempotency-Key is held 100 ms (a slow first request, as under load, so the
 * others arrive while it is processed); one with the same key arriving meanwhile gets `meanwhile`.
 */
async function whileInFlight(req: ProxiedRequest, next: (r: ProxiedRequest) => Promise<ProxiedResponse>, ctx: MutantContext, meanwhile: () => Promise<ProxiedResponse>) {
  const key = isRecord(req) ? keyOf(req) : undefined;
  if (!key) return next(req);
  if (ctx.memory.get(`busy:${key}`)) return meanwhile();
  ctx.memory.set(`busy:${key}`, true);
  try {
    await new Promise((r) => setTimeout(r, 100));
    return await next(req);
  } finally {
    ctx.memory.delete(`busy:${key}`);
  }
}

export const ledgerMutants = defineMutants([
  // ───────────────────────── faults ported from the old fault registry ─────────────────────────
  onResponse('amt-float-arithmetic', ['R-AMT-001'], 'Running balances are summed as binary doubles: balanceAfter and computedBalance lose digits for large amounts.', ['recordDelta', 'deriveBalance', 'getReceipt'], (res) =>
    onData(res, (d) => {
      if (typeof d.balanceAfter === 'string') d.balanceAfter = viaDouble(d.balanceAfter);
      if (typeof d.computedBalance === 'string') d.computedBalance = viaDouble(d.computedBalance);
    }),
  ),
  onRequest('idem-idempotency-ignored', ['R-IDEM-002'], 'The Idempotency-Key header is ignored: a replay records the delta again.', isRecord, (req) => withHeaders(req, { 'idempotency-key': undefined })),
  {
    id: 'idem-idempotency-conflict-accepted',
    rules: ['R-IDEM-004'],
    description: 'The same Idempotency-Key with another body is recorded instead of 409 idempotency_key_reused.',
    async exchange(req, next) {
      const res = await next(req);
      if (!isRecord(req) || res.status !== 409 || json(res)?.code !== 'idempotency_key_reused') return res;
      return next(withHeaders(req, { 'idempotency-key': undefined }));
    },
  },
  {
    id: 'ledg-duplicate-reference-accepted',
    rules: ['R-LEDG-011'],
    description: 'A repeated referenceId for the same customer is recorded (as a delta without reference) instead of 409 duplicate_reference.',
    async exchange(req, next) {
      const res = await next(req);
      if (!isRecord(req) || res.status !== 409 || json(res)?.code !== 'duplicate_reference') return res;
      const { referenceId: _r, ...rest } = bodyOf(req);
      return next(withJson(req, rest));
    },
  },
  onResponse('ledg-compare-discrepancy-wrong', ['R-LEDG-008'], 'discrepancy is theirBalance - yourBalance (sign flipped).', ['compareBalances'], (res) =>
    onData(res, (d) => {
      if (typeof d.discrepancy === 'string' && !/^-?0\.0+$/.test(d.discrepancy)) d.discrepancy = d.discrepancy.startsWith('-') ? d.discrepancy.slice(1) : `-${d.discrepancy}`;
    }),
  ),
  onResponse('proof-leaf-hash-without-domain-separation', ['R-PROOF-002'], 'leafHash is SHA-256(JCS(leaf)) without the 0x00 prefix, in every place a receipt appears.', ['recordDelta', 'getReceipt', 'listCheckpointReceipts'], (res) =>
    res.status < 300 ? mapJson(res, (b) => rewriteLeafHashes(b, (r) => sha256(Buffer.from(jcs(leafOf(r)), 'utf8')).toString('hex'))) : res,
  ),
  onResponse('proof-inclusion-proof-wrong', ['R-PROOF-010'], 'The inclusion proof of a receipt read by id lists its audit path root-first (reversed).', ['getReceipt'], (res) =>
    onData(res, (d) => {
      if (Array.isArray(d.inclusionProof?.auditPath)) d.inclusionProof.auditPath.reverse();
    }),
  ),
  onRequest('proof-verify-requires-key', ['R-PROOF-011'], 'GET /api/v1/verify/{proofRoot} answers 401 without an API key.', ['verifyProofRoot'], (req) =>
    apiKeyOf(req) ? req : problem(401, 'unauthenticated', 'A valid API key is required in the X-Api-Key header.'),
  ),
  onResponse('proof-checkpoint-chain-broken', ['R-PROOF-006'], 'previousProofRoot is always null.', ['createCheckpoint', 'getCheckpoint'], (res) => onData(res, (d) => void (d.previousProofRoot = null))),
  onResponse('opr-create-checkpoint-undocumented-status', ['R-OPR-004'], 'POST /api/v1/balance/checkpoint answers 200 instead of 201.', ['createCheckpoint'], (res) =>
    res.status === 201 ? mapJson({ ...res, status: 200 }, (b) => ({ ...b, statusCode: 200 })) : res,
  ),

  // ───────────────────────── R-LEDG ─────────────────────────
  onResponse('ledg-receipt-reference-not-echoed', ['R-LEDG-001'], 'The 201 receipt of a delta leaves out its referenceId (null).', ['recordDelta'], (res) => onData(res, (d) => void (d.referenceId = null))),
  onResponse('ledg-receipt-metadata-not-echoed', ['R-LEDG-001'], 'The 201 receipt of a delta answers metadata {} whatever was sent.', ['recordDelta'], (res) => onData(res, (d) => void (d.metadata = {}))),
  {
    id: 'ledg-sequence-restarts-after-checkpoint',
    rules: ['R-LEDG-002'],
    description: 'A customer\'s sequence restarts at 1 after each checkpoint (on the receipts recorded after it).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'createCheckpoint') && res.status === 201) {
        const cp = json(res).data;
        ctx.memory.set(`seq:${cp.customerId}`, cp.lastSequence);
      }
      if (!isOperation(req, 'recordDelta', 'getReceipt')) return res;
      return onData(res, (d) => {
        const offset = ctx.memory.get(`seq:${d.customerId}`);
        if (offset && d.sequence > offset) d.sequence -= offset;
      });
    },
  },
  onResponse('ledg-balance-after-before-negative-delta', ['R-LEDG-003'], 'For a negative delta, balanceAfter is the balance before it.', ['recordDelta'], (res) =>
    onData(res, (d) => {
      if (typeof d.delta === 'string' && d.delta.startsWith('-') && d.delta !== '-0.00') {
        d.balanceAfter = formatUnits(units(d.balanceAfter) - units(d.delta));
      }
    }),
  ),
  {
    id: 'ledg-derive-counts-refused-deltas',
    rules: ['R-LEDG-004'],
    description: 'deltaCount also counts the customer\'s refused deltas.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isRecord(req) && res.status >= 400) {
        const c = bodyOf(req)?.customerId;
        if (typeof c === 'string') ctx.memory.set(`refused:${c}`, (ctx.memory.get(`refused:${c}`) ?? 0) + 1);
      }
      if (!isOperation(req, 'deriveBalance')) return res;
      return onData(res, (d) => void (d.deltaCount += ctx.memory.get(`refused:${d.customerId}`) ?? 0));
    },
  },
  {
    id: 'ledg-derive-since-last-checkpoint',
    rules: ['R-LEDG-004'],
    description: 'After a checkpoint, derive sums only the deltas since it (the checkpointed period is left out).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'createCheckpoint') && res.status === 201) ctx.memory.set(`closing:${json(res).data.checkpointId}`, json(res).data.closingBalance);
      if (!isOperation(req, 'deriveBalance')) return res;
      return onData(res, (d) => {
        const closing = d.lastCheckpoint && ctx.memory.get(`closing:${d.lastCheckpoint.checkpointId}`);
        if (closing) d.computedBalance = formatUnits(units(d.computedBalance) - units(closing));
      });
    },
  },
  onResponse('ledg-derive-negative-balance-unsigned', ['R-LEDG-004'], 'Derive writes a negative balance without its sign.', ['deriveBalance'], (res) =>
    onData(res, (d) => {
      if (typeof d.computedBalance === 'string') d.computedBalance = d.computedBalance.replace(/^-/, '');
    }),
  ),
  onResponse('ledg-derive-last-delta-at-is-first', ['R-LEDG-005'], 'Derive\'s lastDeltaAt is the first delta\'s time.', ['deriveBalance'], (res) => onData(res, (d) => void (d.lastDeltaAt = d.firstDeltaAt))),
  onRequest('ledg-compare-starting-balance-ignored-with-customer', ['R-LEDG-006'], 'With customerId, startingBalance is ignored (treated as 0).', ['compareBalances'], (req) => {
    const b = bodyOf(req);
    if (!b?.customerId || b.startingBalance === undefined) return req;
    const { startingBalance: _s, ...rest } = b;
    return withJson(req, rest);
  }),
  onResponse('ledg-compare-without-customer-computed-zero', ['R-LEDG-007'], 'Without customerId, computedBalance and expectedBalance are "0.00" instead of null.', ['compareBalances'], (res) =>
    onData(res, (d) => {
      if (d.customerId === null) {
        d.computedBalance = '0.00';
        d.expectedBalance = d.startingBalance;
      }
    }),
  ),
  {
    id: 'ledg-compare-starting-balance-default-null',
    rules: ['R-LEDG-009'],
    description: 'Without startingBalance, the report\'s startingBalance is null instead of the default "0.00".',
    async exchange(req, next) {
      const res = await next(req);
      if (!isOperation(req, 'compareBalances') || bodyOf(req)?.startingBalance !== undefined) return res;
      return onData(res, (d) => void (d.startingBalance = null));
    },
  },
  {
    id: 'ledg-compare-records-audit-delta',
    rules: ['R-LEDG-010'],
    description: 'A compare with customerId records a zero audit delta for the customer.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const b = bodyOf(req);
      if (isOperation(req, 'compareBalances') && res.status === 200 && b?.customerId) {
        await ctx.forward({ listener: req.listener, method: 'POST', url: '/api/v1/balance/delta', headers: { 'x-api-key': apiKeyOf(req) ?? '', 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ customerId: b.customerId, delta: '0', reason: 'compare-audit' })) });
      }
      return res;
    },
  },
  onResponse('ledg-duplicate-reference-unnamed', ['R-LEDG-011'], '409 duplicate_reference does not name the receipt that holds the referenceId.', ['recordDelta'], (res) =>
    res.status === 409 ? mapJson(res, (p) => void delete p.receiptId) : res,
  ),
  {
    id: 'ledg-reference-unique-per-tenant',
    rules: ['R-LEDG-012'],
    description: 'A referenceId is used once per tenant: another customer using it gets 409 duplicate_reference.',
    async exchange(req, next, ctx) {
      const b = isRecord(req) ? bodyOf(req) : undefined;
      const held = b?.referenceId ? ctx.memory.get(`ref:${b.referenceId}`) : undefined;
      if (held && held.customerId !== b.customerId) return problem(409, 'duplicate_reference', `referenceId ${b.referenceId} is already recorded.`, { receiptId: held.receiptId });
      const res = await next(req);
      if (b?.referenceId && res.status === 201) ctx.memory.set(`ref:${b.referenceId}`, { customerId: b.customerId, receiptId: json(res).data.receiptId });
      return res;
    },
  },
  onResponse('ledg-recorded-answer-says-confirmed', ['R-LEDG-013'], 'The 201 answer of a delta says status confirmed with confirmedAt = createdAt.', ['recordDelta'], (res) =>
    header(res, 'idempotent-replayed') ? res : onData(res, (d) => Object.assign(d, { status: 'confirmed', confirmedAt: d.createdAt })),
  ),
  onResponse('ledg-listing-status-stays-recorded', ['R-LEDG-013'], 'A checkpoint\'s receipt listing shows every receipt as still recorded (confirmedAt null) though GET by id shows it confirmed.', ['listCheckpointReceipts'], (res) =>
    onData(res, (d) => { for (const r of d.items ?? []) if (r.status === 'confirmed') { r.status = 'recorded'; r.confirmedAt = null; } })),
  onResponse('ledg-confirmed-without-confirmed-at', ['R-LEDG-013'], 'A receipt read by id says status confirmed with confirmedAt null.', ['getReceipt'], (res) => onData(res, (d) => void (d.status === 'confirmed' && (d.confirmedAt = null)))),
  {
    id: 'ledg-receipt-by-id-shows-current-balance',
    rules: ['R-LEDG-014'],
    description: 'A receipt read by id shows the customer\'s current balance as balanceAfter.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isRecord(req) && res.status === 201) ctx.memory.set(`bal:${json(res).data.customerId}`, json(res).data.balanceAfter);
      if (!isOperation(req, 'getReceipt')) return res;
      return onData(res, (d) => void (d.balanceAfter = ctx.memory.get(`bal:${d.customerId}`) ?? d.balanceAfter));
    },
  },

  {
    id: 'ledg-confirmed-event-time-differs',
    rules: ['R-LEDG-013'],
    description: 'The delta.confirmed event carries the time it was sent as confirmedAt, not the receipt\'s confirmedAt.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      rememberEndpointSecrets(req, res, ctx);
      return res;
    },
    async delivery(d, send, ctx) {
      const event = json(d);
      if (event?.type !== 'delta.confirmed' || !event.data) return send(d);
      return send(resigned(d, { ...event, data: { ...event.data, confirmedAt: new Date(Date.parse(event.data.confirmedAt) + 1234).toISOString() } }, ctx));
    },
  },
  onResponse('ledg-derive-first-delta-at-since-checkpoint', ['R-LEDG-005'], 'After a checkpoint, derive\'s firstDeltaAt is the checkpoint\'s time (the period restarts).', ['deriveBalance'], (res) =>
    onData(res, (d) => void (d.lastCheckpoint && (d.firstDeltaAt = d.lastCheckpoint.createdAt))),
  ),

  // ───────────────────────── R-AMT ─────────────────────────
  onRequest('amt-number-read-as-double', ['R-AMT-002'], 'A JSON number amount is read through a double (999999999999999.99999999 becomes 1e15).', isRecord, (req) => {
    const literal = literalOf(req, 'delta');
    return literal && !literal.startsWith('"') ? replaceLiteral(req, 'delta', JSON.stringify(Number(literal))) : req;
  }),
  ...(['1000000000000000', '-1000000000000000'] as const).map((bound) =>
    onRequest(`amt-bound-${bound.startsWith('-') ? 'min' : 'max'}-exclusive`, ['R-AMT-003'], `The amount ${bound} itself is refused (the bound treated as exclusive).`, isRecord, (req) => {
      const literal = literalOf(req, 'delta')?.replace(/"/g, '');
      return literal === bound ? problem(422, 'validation_failed', 'The request does not match the contract.') : req;
    }),
  ),
  onRequest('amt-over-max-number-accepted', ['R-AMT-004'], 'A number just past ±10^15 (1000000000000000.00000001) is read as 1e15 and accepted.', ['recordDelta', 'compareBalances'], (req) => {
    let changed = req;
    for (const name of ['delta', 'yourBalance']) {
      const literal = literalOf(changed, name);
      if (literal && !literal.startsWith('"') && /^-?1000000000000000\.0*[1-9]/.test(literal)) changed = replaceLiteral(changed, name, literal.startsWith('-') ? '-1000000000000000' : '1000000000000000');
    }
    return changed;
  }),
  onRequest('amt-excess-decimals-rounded', ['R-AMT-005'], 'A JSON number with more than 8 decimal places is rounded to 8 instead of refused.', isRecord, (req) => {
    const literal = literalOf(req, 'delta');
    return literal && !literal.startsWith('"') && /\.\d{9,}/.test(literal) ? replaceLiteral(req, 'delta', Number(literal).toFixed(8)) : req;
  }),
  onResponse('amt-excess-decimals-code-multiple-of', ['R-AMT-005'], 'A number with more than 8 decimals is refused with the violation code multipleOf.', isRecord, (res) =>
    res.status === 422 ? mapJson(res, (p) => p.validation?.forEach((v: any) => v.code === 'x-max-decimal-places' && (v.code = 'multipleOf'))) : res,
  ),
  onRequest('amt-exponent-string-accepted', ['R-AMT-006'], 'A string amount with an exponent ("1e3") is accepted as its value.', isRecord, (req) => {
    const literal = literalOf(req, 'delta');
    return literal?.startsWith('"') && /e/i.test(literal) ? replaceLiteral(req, 'delta', JSON.stringify(String(Number(JSON.parse(literal))))) : req;
  }),
  onRequest('amt-leading-zero-string-accepted', ['R-AMT-006'], 'A string amount with a leading zero ("01") or a lone point (".5", "1.") is accepted.', isRecord, (req) => {
    const literal = literalOf(req, 'delta');
    return literal && /^"(0\d|\.\d|\d+\.")/.test(literal) ? replaceLiteral(req, 'delta', JSON.stringify(String(Number(JSON.parse(literal))))) : req;
  }),
  onResponse('amt-eight-decimals-in-listing', ['R-AMT-007'], 'The checkpoint listing writes amounts with all 8 decimals ("1.00000000").', ['listCheckpointReceipts'], (res) =>
    onData(res, (d) => d.items?.forEach((r: any) => Object.assign(r, { delta: padTo8(r.delta), balanceAfter: padTo8(r.balanceAfter) }))),
  ),
  onResponse('amt-derive-eight-decimals', ['R-AMT-007'], 'Derive writes the balance with all 8 decimals.', ['deriveBalance'], (res) => onData(res, (d) => void (d.computedBalance = padTo8(d.computedBalance)))),
  onResponse('amt-out-of-range-balance-as-validation', ['R-AMT-008'], 'A delta taking the balance past ±10^15 is answered 422 validation_failed instead of 409 balance_out_of_range.', isRecord, (res) =>
    res.status === 409 && json(res)?.code === 'balance_out_of_range' ? problem(422, 'validation_failed', 'The balance would be out of range.') : res,
  ),
  onResponse('amt-compare-expected-clamped', ['R-AMT-009'], 'Compare clamps expectedBalance and the discrepancies to ±10^15.', ['compareBalances'], (res) =>
    onData(res, (d) => {
      for (const m of ['expectedBalance', 'yourDiscrepancy', 'theirDiscrepancy', 'discrepancy']) {
        if (typeof d[m] !== 'string') continue;
        const v = units(d[m]);
        if (v > MAX) d[m] = formatUnits(MAX);
        if (v < -MAX) d[m] = formatUnits(-MAX);
      }
    }),
  ),

  // ───────────────────────── R-IDEM ─────────────────────────
  onRequest('idem-long-key-truncated', ['R-IDEM-001'], 'An Idempotency-Key longer than 255 characters is cut to 255 instead of refused.', isRecord, (req) => {
    const key = keyOf(req);
    return key && key.length > 255 ? withHeaders(req, { 'idempotency-key': key.slice(0, 255) }) : req;
  }),
  onRequest('idem-short-key-refused', ['R-IDEM-001'], 'An Idempotency-Key shorter than 8 characters is refused with 422.', isRecord, (req) => {
    const key = keyOf(req);
    return key !== undefined && key.length > 0 && key.length < 8 ? problem(422, 'validation_failed', 'The request does not match the contract.', { validation: [{ location: ['header', 'Idempotency-Key'], severity: 'Error', code: 'minLength', message: 'must NOT have fewer than 8 characters' }] }) : req;
  }),
  onRequest('idem-key-spaces-stripped', ['R-IDEM-001'], 'Spaces in an Idempotency-Key are removed instead of refused.', isRecord, (req) => {
    const key = keyOf(req);
    return key?.includes(' ') ? withHeaders(req, { 'idempotency-key': key.replace(/ /g, '') }) : req;
  }),
  {
    id: 'idem-key-forgotten-after-checkpoint',
    rules: ['R-IDEM-002'],
    description: 'Stored Idempotency-Keys are dropped when the delta\'s customer is checkpointed: a later replay records again.',
    async exchange(req, next, ctx) {
      const key = isRecord(req) ? keyOf(req) : undefined;
      const customer = key ? bodyOf(req)?.customerId : undefined;
      const forgotten = key && ctx.memory.get(`checkpointed:${customer}`) && ctx.memory.get(`key-before:${key}`);
      const res = await next(forgotten ? withHeaders(req, { 'idempotency-key': undefined }) : req);
      if (key && res.status === 201) ctx.memory.set(`key-before:${key}`, true);
      if (isOperation(req, 'createCheckpoint') && res.status === 201) ctx.memory.set(`checkpointed:${json(res).data.customerId}`, true);
      return res;
    },
  },
  onResponse('idem-replay-header-missing', ['R-IDEM-002'], 'A replay is answered without Idempotent-Replayed: true.', isRecord, (res) => withHeaders(res, { 'idempotent-replayed': undefined })),
  {
    id: 'idem-bodies-compared-as-bytes',
    rules: ['R-IDEM-003'],
    description: 'Bodies are compared byte for byte: the same body written otherwise is 409 idempotency_key_reused.',
    async exchange(req, next, ctx) {
      const key = isRecord(req) ? keyOf(req) : undefined;
      if (!key) return next(req);
      const first = ctx.memory.get(`idem-bytes:${key}`);
      if (first !== undefined && first !== req.body.toString('utf8')) return problem(409, 'idempotency_key_reused', 'The Idempotency-Key was used with another body.');
      const res = await next(req);
      if (res.status === 201 && first === undefined) ctx.memory.set(`idem-bytes:${key}`, req.body.toString('utf8'));
      return res;
    },
  },
  {
    id: 'idem-replay-shows-current-state',
    rules: ['R-IDEM-005'],
    description: 'A replay answers the receipt as it is now (confirmed, checkpointed) instead of the first response.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isRecord(req) || header(res, 'idempotent-replayed') !== 'true') return res;
      const now = await ctx.forward({ listener: req.listener, method: 'GET', url: `/api/v1/receipts/${json(res).data.receiptId}`, headers: { 'x-api-key': apiKeyOf(req) ?? '' }, body: Buffer.alloc(0) });
      return now.status === 200 ? mapJson(res, (b) => ({ ...b, data: json(now).data })) : res;
    },
  },
  {
    id: 'idem-failure-stores-key',
    rules: ['R-IDEM-006'],
    description: 'A refused request stores its answer under its Idempotency-Key: every later request with the key replays the refusal.',
    async exchange(req, next, ctx) {
      const key = isRecord(req) ? keyOf(req) : undefined;
      if (key && ctx.memory.has(`idem-failed:${key}`)) return withHeaders(ctx.memory.get(`idem-failed:${key}`), { 'idempotent-replayed': 'true' });
      const res = await next(req);
      if (key && res.status >= 400 && res.status < 500 && res.status !== 429) ctx.memory.set(`idem-failed:${key}`, res);
      return res;
    },
  },
  {
    id: 'idem-concurrent-duplicate-recorded',
    rules: ['R-IDEM-007'],
    description: 'A request arriving while another with the same Idempotency-Key is processed is recorded too (the key is not locked).',
    async exchange(req, next, ctx) {
      // The key is not locked: a request arriving meanwhile is recorded as a new delta.
      return whileInFlight(req, next, ctx, () => next(withHeaders(req, { 'idempotency-key': undefined })));
    },
  },
  {
    id: 'idem-in-progress-as-key-reused',
    rules: ['R-IDEM-007'],
    description: 'A request arriving while another with the same Idempotency-Key is processed gets 409 idempotency_key_reused instead of idempotency_request_in_progress.',
    async exchange(req, next, ctx) {
      return whileInFlight(req, next, ctx, async () => problem(409, 'idempotency_key_reused', 'The Idempotency-Key was used with another body.'));
    },
  },
  {
    id: 'idem-keys-global-across-tenants',
    rules: ['R-IDEM-009'],
    description: 'Idempotency keys are global: another tenant\'s key with the same Idempotency-Key and another body gets 409 idempotency_key_reused.',
    async exchange(req, next, ctx) {
      const key = isRecord(req) ? keyOf(req) : undefined;
      if (!key) return next(req);
      const first = ctx.memory.get(`idem-owner:${key}`);
      if (first && first.apiKey !== apiKeyOf(req) && first.body !== req.body.toString('utf8')) return problem(409, 'idempotency_key_reused', 'The Idempotency-Key was used with another body.');
      const res = await next(req);
      if (!first && res.status === 201) ctx.memory.set(`idem-owner:${key}`, { apiKey: apiKeyOf(req), body: req.body.toString('utf8') });
      return res;
    },
  },

  {
    id: 'idem-replay-sends-event',
    rules: ['R-IDEM-010'],
    description: 'An idempotent replay sends the delta.recorded event again, as a new event (new id, signed afresh).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      rememberEndpointSecrets(req, res, ctx);
      if (isRecord(req) && header(res, 'idempotent-replayed') === 'true') {
        const sent = ctx.memory.get(`recorded:${json(res)?.data?.receiptId}`) as { d: Delivery; send: (d: Delivery) => Promise<number> } | undefined;
        if (sent) {
          const id = `evt_${randomBytes(8).toString('hex')}`;
          await sent.send(resigned(sent.d, { ...json(sent.d), id }, ctx, { 'x-pacspace-event-id': id, 'x-pacspace-delivery-id': `dlv_${randomBytes(8).toString('hex')}` }));
        }
      }
      return res;
    },
    async delivery(d, send, ctx) {
      const event = json(d);
      if (event?.type === 'delta.recorded' && event.data?.receiptId) ctx.memory.set(`recorded:${event.data.receiptId}`, { d, send });
      return send(d);
    },
  },

  // ───────────────────────── R-PROOF ─────────────────────────
  checkpointRootMutant('proof-root-over-reversed-leaves', ['R-PROOF-001'], 'The checkpoint root is computed over the leaves in reverse sequence order.', (leaves) =>
    rootWith([...leaves].reverse(), (l, r) => sha256(Buffer.from([1]), l, r)),
  ),
  {
    id: 'proof-later-root-over-whole-ledger',
    rules: ['R-PROOF-001'],
    description: 'A later checkpoint\'s root covers every delta of the customer, not only those since the previous checkpoint.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'createCheckpoint') || res.status !== 201) return res;
      const cp = json(res).data;
      const earlier: any[] = ctx.memory.get(`leaves:${cp.customerId}`) ?? [];
      const mine = (await receiptsOf(ctx, req, cp.checkpointId)).map((r) => Buffer.from(r.leafHash, 'hex'));
      ctx.memory.set(`leaves:${cp.customerId}`, [...earlier, ...mine]);
      if (!earlier.length) return res;
      return onData(res, (d) => void (d.proofRoot = rootWith([...earlier, ...mine], (l, r) => sha256(Buffer.from([1]), l, r)).toString('hex')));
    },
  },
  onResponse('proof-leaf-without-null-reference-in-listing', ['R-PROOF-002'], 'In the checkpoint listing only, leafHash is computed from a leaf that leaves out a null referenceId.', ['listCheckpointReceipts'], (res) =>
    res.status < 300
      ? mapJson(res, (b) =>
          rewriteLeafHashes(b, (r) => {
            const leaf: Record<string, unknown> = leafOf(r);
            if (leaf.referenceId === null) delete leaf.referenceId;
            return sha256(Buffer.from([0]), Buffer.from(jcs(leaf), 'utf8')).toString('hex');
          }),
        )
      : res,
  ),
  checkpointRootMutant('proof-node-hash-without-prefix', ['R-PROOF-003'], 'Tree nodes are SHA-256(left || right), without the 0x01 prefix.', (leaves) => rootWith(leaves, (l, r) => sha256(l, r))),
  onResponse('proof-root-uppercase-hex', ['R-PROOF-003'], 'The checkpoint answer writes proofRoot in uppercase hex.', ['createCheckpoint'], (res) => onData(res, (d) => void (d.proofRoot = String(d.proofRoot).toUpperCase()))),
  onResponse('proof-empty-checkpoint-created', ['R-PROOF-004'], 'With nothing new, a checkpoint is created with the empty tree\'s root instead of 409 nothing_to_checkpoint.', ['createCheckpoint'], (res, req) => {
    if (res.status !== 409 || json(res)?.code !== 'nothing_to_checkpoint') return res;
    const now = new Date().toISOString();
    return answer(201, { statusCode: 201, data: { checkpointId: `chk_${Date.now().toString(36)}empty`, customerId: bodyOf(req)?.customerId, proofRoot: EMPTY_ROOT, previousProofRoot: null, algorithm: 'rfc6962-sha256-jcs-v1', deltaCount: 0, firstSequence: 1, lastSequence: 1, openingBalance: '0.00', closingBalance: '0.00', environment: 'test', createdAt: now } });
  }),
  onResponse('proof-first-previous-root-empty-tree', ['R-PROOF-005'], 'The first checkpoint names the empty tree\'s root as previousProofRoot instead of null.', ['createCheckpoint'], (res) =>
    onData(res, (d) => void (d.previousProofRoot === null && (d.previousProofRoot = EMPTY_ROOT))),
  ),
  onResponse('proof-later-opening-balance-zero', ['R-PROOF-007'], 'A later checkpoint\'s openingBalance is "0.00" instead of the previous closingBalance.', ['createCheckpoint'], (res) =>
    onData(res, (d) => void (d.previousProofRoot !== null && (d.openingBalance = '0.00'))),
  ),
  onResponse('proof-last-sequence-exclusive', ['R-PROOF-007'], 'lastSequence is one past the last covered sequence.', ['createCheckpoint'], (res) => onData(res, (d) => void (d.lastSequence += 1))),
  onResponse('proof-listing-total-is-page-count', ['R-PROOF-008'], 'The listing\'s total is the number of items on the page.', ['listCheckpointReceipts'], (res) => onData(res, (d) => void (d.total = d.items.length))),
  {
    id: 'proof-listing-pages-overlap',
    rules: ['R-PROOF-008'],
    description: 'Each page after the first starts one receipt early (the previous page\'s last receipt repeats, and one is lost).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'listCheckpointReceipts') || res.status !== 200) return res;
      const q = queryOf(req);
      const page = Number(q.get('page') ?? 1);
      if (page < 2) return res;
      const prev = new URL(req.url, 'http://x');
      prev.searchParams.set('page', String(page - 1));
      const before = json(await ctx.forward({ ...req, url: prev.pathname + prev.search }))?.data?.items ?? [];
      return onData(res, (d) => {
        if (before.length && d.items.length) d.items = [before.at(-1), ...d.items.slice(0, -1)];
      });
    },
  },
  onRequest('proof-listing-limit-clamped', ['R-PROOF-008'], 'A limit above 1000 is clamped to 1000 instead of refused.', ['listCheckpointReceipts'], (req) => {
    const u = new URL(req.url, 'http://x');
    if (Number(u.searchParams.get('limit')) > 1000) u.searchParams.set('limit', '1000');
    return { ...req, url: u.pathname + u.search };
  }),
  onRequest('proof-listing-default-limit-20', ['R-PROOF-008'], 'Without limit, the listing pages by 20 (the contract\'s default is 100).', ['listCheckpointReceipts'], (req) => {
    const u = new URL(req.url, 'http://x');
    if (!u.searchParams.has('limit')) u.searchParams.set('limit', '20');
    return { ...req, url: u.pathname + u.search };
  }),
  onResponse('proof-listing-page-two-reversed', ['R-PROOF-008'], 'Pages after the first list their receipts in descending sequence.', ['listCheckpointReceipts'], (res, req) =>
    Number(queryOf(req).get('page') ?? 1) > 1 ? onData(res, (d) => void d.items.reverse()) : res,
  ),
  onResponse('proof-receipt-by-id-proof-missing', ['R-PROOF-009'], 'A checkpointed receipt read by id names its checkpoint but has inclusionProof null.', ['getReceipt'], (res) => onData(res, (d) => void (d.checkpointId && (d.inclusionProof = null)))),
  onResponse('proof-listing-page-two-proof-missing', ['R-PROOF-009'], 'In the checkpoint listing, receipts after the first page have inclusionProof null.', ['listCheckpointReceipts'], (res, req) =>
    Number(queryOf(req).get('page') ?? 1) > 1 ? onData(res, (d) => d.items.forEach((r: any) => (r.inclusionProof = null))) : res,
  ),
  onResponse('proof-leaf-index-one-based-in-listing', ['R-PROOF-010'], 'In the checkpoint listing only, leafIndex counts from 1.', ['listCheckpointReceipts'], (res) =>
    onData(res, (d) => d.items.forEach((r: any) => r.inclusionProof && (r.inclusionProof.leafIndex += 1))),
  ),
  onResponse('proof-unknown-root-verified-false', ['R-PROOF-011'], 'An unknown root answers 200 verified: false instead of 404.', ['verifyProofRoot'], (res, req) =>
    res.status === 404 ? answer(200, { statusCode: 200, data: { proofRoot: req.url.split('/').pop()?.split('?')[0], verified: false, checkpoint: null } }) : res,
  ),
  onResponse('proof-verify-closing-balance-stale', ['R-PROOF-011'], 'Public verify shows the checkpoint with closingBalance equal to its openingBalance.', ['verifyProofRoot'], (res) =>
    onData(res, (d) => void (d.checkpoint && (d.checkpoint.closingBalance = d.checkpoint.openingBalance))),
  ),
  onResponse('proof-leaf-index-ledger-wide', ['R-PROOF-010'], 'A receipt read by id gives its position in the customer\'s whole ledger as leafIndex (wrong after the first checkpoint).', ['getReceipt'], (res) =>
    onData(res, (d) => void (d.inclusionProof && (d.inclusionProof.leafIndex = d.sequence - 1))),
  ),
  onResponse('proof-get-checkpoint-unchained', ['R-PROOF-012'], 'GET /api/v1/checkpoints/{id} shows previousProofRoot null (the chain is not stored).', ['getCheckpoint'], (res) => onData(res, (d) => void (d.previousProofRoot = null))),
  {
    id: 'proof-derive-names-first-checkpoint',
    rules: ['R-PROOF-013'],
    description: 'Derive\'s lastCheckpoint names the customer\'s first checkpoint, not the latest.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'createCheckpoint') && res.status === 201) {
        const cp = json(res).data;
        if (!ctx.memory.has(`first-cp:${cp.customerId}`)) ctx.memory.set(`first-cp:${cp.customerId}`, { checkpointId: cp.checkpointId, proofRoot: cp.proofRoot, lastSequence: cp.lastSequence, createdAt: cp.createdAt });
      }
      if (!isOperation(req, 'deriveBalance')) return res;
      return onData(res, (d) => void (ctx.memory.has(`first-cp:${d.customerId}`) && (d.lastCheckpoint = ctx.memory.get(`first-cp:${d.customerId}`))));
    },
  },

  // ───────────────────────── R-BILL ─────────────────────────
  onResponse('bill-usage-mainnet-first', ['R-BILL-001'], 'The billing summary lists mainnet usage before testnet.', ['getBillingSummary'], (res) => onData(res, (d) => void d.usage?.reverse())),
  onResponse('bill-period-end-inclusive', ['R-BILL-001'], 'The billing period ends at the last millisecond of the month (end inclusive).', ['getBillingSummary'], (res) =>
    onData(res, (d) => void (d.currentPeriod.end = new Date(Date.parse(d.currentPeriod.end) - 1).toISOString())),
  ),
  onResponse('bill-remaining-ignores-usage', ['R-BILL-002'], 'remaining is the plan\'s limit whatever the usage.', ['getBillingSummary'], (res) => onData(res, (d) => d.usage?.forEach((u: any) => (u.remaining = u.limit)))),
  {
    id: 'bill-usage-cached',
    rules: ['R-BILL-002'],
    description: 'The billing summary is cached: usage does not grow as deltas are confirmed.',
    async exchange(req, next, ctx) {
      if (isOperation(req, 'getBillingSummary') && ctx.memory.has('billing')) return ctx.memory.get('billing');
      const res = await next(req);
      if (isOperation(req, 'getBillingSummary') && res.status === 200) ctx.memory.set('billing', res);
      return res;
    },
  },
  onResponse('bill-free-plan-limit-1000', ['R-BILL-003'], 'The Free plan allows 1000 verified deltas a month in the Sandbox.', ['getBillingSummary'], (res) =>
    onData(res, (d) => {
      if (d.plan?.id !== 'free') return;
      d.plan.limits.verifiedDeltasPerMonth.testnet = 1000;
      const t = d.usage?.find((u: any) => u.environment === 'testnet');
      if (t) Object.assign(t, { limit: 1000, remaining: Math.max(0, 1000 - t.verifiedDeltas) });
    }),
  ),
  onRequest('bill-limit-checked-against-wrong-environment', ['R-BILL-004'], 'The plan limit is checked against the other environment\'s limit (none read as 0): every Sandbox delta is 402.', isRecord, (req) =>
    req.listener === 'sandbox' ? problem(402, 'plan_limit_exceeded', 'The plan limit is used up.', { limit: 0, periodEnd: new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1)).toISOString() }) : req,
  ),
]);
