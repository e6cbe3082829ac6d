// Webhook endpoints and deliveries, whole rules: secrets in every answer that shows an
// endpoint, listing and pagination, signatures through rotations, headers of every delivery,
// acknowledgement and retries, filtering by environment/type/creation/active, update, delete,
// test events. Every check creates its own endpoints (deleted at the end of the run), so it
// runs alone as well as in the whole suite.
import { defineCheck, type Check } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { apart } from '../../lib/apart.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import type { Client, Exchange } from '../../lib/http.ts';
import { REFUSAL_BODY, type Delivery } from '../../lib/receiver.ts';
import {
  ALL_EVENTS,
  DELIVERY_HEADERS,
  arrivedAt,
  createHook,
  customer,
  differingFields,
  distinctEvents,
  eventProblems,
  gate,
  listedDeliveries,
  moveHook,
  ofEvent,
  ofType,
  pollUntil,
  recordDelta,
  rotate,
  schemaFields,
  sendTest,
  settle,
  signatureSyntaxProblem,
  signers,
  tagOf,
  taggedUrl,
  verifiesWith,
  waitAt,
  type Hook,
  deletingItsEndpoints,
} from './support.ts';

const SOURCE = 'PRODUCT.md Webhooks; openapi tag Events; openapi op ';
const NEEDS = ['dashboard', 'writes', 'webhooks'] as const;
const ENDPOINT_FIELDS = schemaFields('WebhookEndpoint');
/** A retry is due 1 min after a failed attempt on the hosted service (faster in a sandbox). */
const RETRY_WAIT_MS = 90_000;

const is2xx = (n: unknown) => typeof n === 'number' && n >= 200 && n < 300;

/** Walks the endpoint list (limit per page) until `id` is found; returns every page's answer. */
async function listPagesUntil(dash: Client, limit: number, found: (items: any[]) => boolean, maxPages = 20): Promise<Exchange[]> {
  const pages: Exchange[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const res = await dash.get(`/dashboard/webhooks?page=${page}&limit=${limit}`);
    expectStatus(res, 200, 'listing webhook endpoints');
    pages.push(res);
    const items: any[] = res.body?.data?.items ?? [];
    if (found(pages.flatMap((p) => p.body?.data?.items ?? [])) || items.length < limit) break;
  }
  return pages;
}

const listedItems = (pages: Exchange[]) => pages.flatMap((p) => p.body?.data?.items ?? []);

async function getHook(dash: Client, id: string) {
  const res = await dash.get(`/dashboard/webhooks/${id}`);
  expectStatus(res, 200, 'reading the webhook endpoint');
  return res.body.data;
}

/** Members named like a secret anywhere in a JSON value. */
function secretMembers(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretMembers(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  // `previousSecretExpiresAt` is a time, not a secret.
  return Object.entries(value).flatMap(([k, v]) => [...(/secret/i.test(k) && !/ExpiresAt$/.test(k) ? [`${path}.${k}`] : []), ...secretMembers(v, `${path}.${k}`)]);
}

const sameInstant = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && Date.parse(a) === Date.parse(b);

// Each deletes the endpoints it created as soon as it ends.
export const endpointChecks = ([
  defineCheck({
    id: 'WEBHOOK-005',
    rule: 'A signing secret is shown only by the create (201) and rotate (200) answers; the endpoint list (every page walked), the single GET, update, test-event, deliveries and delete answers never carry it, nor a member named like a secret.',
    source: `${SOURCE}createWebhookEndpoint, rotateWebhookSecret, listWebhookEndpoints, getWebhookEndpoint, updateWebhookEndpoint`,
    needs: [...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const hook = await createHook(ctx, 'reads');
      const doomed = await createHook(ctx, 'deleted');
      const rotated = await rotate(ctx, hook, 3600);
      ensure(rotated.body?.data?.id === hook.id, 'the rotation answer names another endpoint');
      ensure(typeof rotated.body?.data?.previousSecretExpiresAt === 'string', 'the rotation answer lacks previousSecretExpiresAt');
      const answers: Array<[string, Exchange]> = [];
      const pages = await listPagesUntil(dash, 2, (items) => items.some((x) => x?.id === hook.id));
      ensure(listedItems(pages).some((x) => x?.id === hook.id), 'the new endpoint is not in the endpoint list');
      for (const p of pages) answers.push([`the endpoint list (page ${p.path})`, p]);
      answers.push(['the endpoint\'s GET', await dash.get(`/dashboard/webhooks/${hook.id}`)]);
      answers.push(['the update answer', await dash.patch(`/dashboard/webhooks/${hook.id}`, { headers: CSRF, json: { description: `pacspace conformance ${ctx.runTag} reads (renamed)` } })]);
      answers.push(['the test-event answer', (await sendTest(ctx, hook)).exchange]);
      answers.push(['the deliveries list', await dash.get(`/dashboard/webhooks/${hook.id}/deliveries`)]);
      answers.push(['the delete answer', await dash.delete(`/dashboard/webhooks/${doomed.id}`, { headers: CSRF })]);
      const secrets = [...hook.secrets, ...doomed.secrets];
      for (const [what, ex] of answers) {
        ensure(is2xx(ex.status), `${what} answered ${ex.status}`);
        const text = `${ex.text}\n${JSON.stringify(ex.headers)}`;
        ensure(!secrets.some((s) => text.includes(s)), `${what} carries a signing secret`);
        const named = secretMembers(ex.body);
        ensure(named.length === 0, `${what} has a member named like a secret: ${named.join(', ')}`);
      }
    },
  }),

  defineCheck({
    id: 'WEBHOOK-006',
    rule: 'Endpoints of both environments are listed newest first, page by page: `page` and `limit` as asked, the same `total` on every page, full pages but the last, no endpoint twice, each as its GET shows it.',
    source: `${SOURCE}listWebhookEndpoints`,
    needs: [...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const mine: Hook[] = [];
      for (const [label, environment] of [['page-a', 'test'], ['page-b', 'live'], ['page-c', 'test']] as const) {
        if (mine.length) await apart();
        mine.push(await createHook(ctx, label, { events: ['delta.recorded'], environment }));
      }
      const ids = mine.map((h) => h.id);
      const limit = 2;
      const pages = await listPagesUntil(dash, limit, (items) => ids.every((id) => items.some((x) => x?.id === id)), 30);
      const total = pages[0]!.body?.data?.total;
      ensure(Number.isInteger(total) && total >= 3, `total ${total} cannot count the 3 endpoints just created`);
      pages.forEach((p, i) => {
        const d = p.body?.data ?? {};
        ensure(d.page === i + 1 && d.limit === limit, `page ${i + 1} answered page ${d.page} and limit ${d.limit}`);
        ensure(d.total === total, `total changed between pages (${total}, then ${d.total})`);
        const expected = Math.min(limit, total - i * limit);
        ensure(d.items?.length === expected, `page ${i + 1} has ${d.items?.length} items, not ${expected} (limit ${limit}, total ${total})`);
      });
      const items = listedItems(pages);
      ensure(new Set(items.map((x) => x?.id)).size === items.length, 'an endpoint is listed on two pages');
      for (let i = 1; i < items.length; i++) ensure(Date.parse(items[i - 1].createdAt) >= Date.parse(items[i].createdAt), 'the endpoints are not listed newest first');
      const positions = ids.map((id) => items.findIndex((x) => x?.id === id));
      ensure(positions.every((p) => p >= 0), 'an endpoint just created is not listed');
      const stamps = mine.map((h) => Date.parse(h.created.body?.data?.createdAt));
      for (let i = 1; i < ids.length; i++) if (stamps[i]! > stamps[i - 1]!) ensure(positions[i]! < positions[i - 1]!, 'a newer endpoint is listed after an older one');
      ensure(items.some((x) => x?.id === mine[1]!.id && x.environment === 'live'), 'the live endpoint is not listed as live beside the test ones');
      for (const h of mine) {
        const listed = items.find((x) => x?.id === h.id);
        const got = await getHook(dash, h.id);
        const diff = differingFields(listed, got, ENDPOINT_FIELDS);
        ensure(diff.length === 0, `the list and the GET of ${h.label} differ in ${diff.join(', ')}`);
      }
    },
  }),

  defineCheck({
    id: 'WEBHOOK-007',
    rule: 'Signatures through rotations: one `v1` before; during an overlap exactly two, the new secret\'s first; rotating during an overlap retires the oldest at once (never three); `overlapSeconds: 0` and the end of an overlap leave only the newest. `previousSecretExpiresAt` is the rotation time plus the overlap, shown by the endpoint during the overlap and null otherwise.',
    source: `${SOURCE}rotateWebhookSecret; openapi #/components/schemas/WebhookSecretRotated`,
    needs: [...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const hook = await createHook(ctx, 'rotation', { events: ['delta.recorded'] });
      const delivered = async (when: string) => {
        const { eventId } = await sendTest(ctx, hook);
        const d = await waitAt(hook, ofEvent(eventId));
        const syntax = signatureSyntaxProblem(d.headers['x-pacspace-signature']);
        ensure(!syntax, `${when}: ${syntax}`);
        return signers(d, hook.secrets);
      };
      const expectSigners = (got: number[], want: number[], when: string) => {
        const names = (xs: number[]) => xs.map((i) => (i < 0 ? 'an unknown secret' : i === 0 ? 'the newest secret' : `the secret ${i} rotation(s) old`)).join(', ') || 'nothing';
        ensure(got.length === want.length && got.every((g, i) => g === want[i]), `${when}: the signatures are by ${names(got)}; expected ${names(want)}`);
      };
      ensure((await getHook(dash, hook.id)).previousSecretExpiresAt === null, 'a new endpoint shows a previousSecretExpiresAt');
      expectSigners(await delivered('before any rotation'), [0], 'before any rotation');

      const expiry = async (res: Exchange, overlapSeconds: number, when: string) => {
        const got = await getHook(dash, hook.id);
        const at = res.body?.data?.previousSecretExpiresAt;
        const gap = Date.parse(at) - Date.parse(got.updatedAt);
        ensure(Math.abs(gap - overlapSeconds * 1000) <= 1000, `${when}: previousSecretExpiresAt ${at} is not the rotation time (updatedAt ${got.updatedAt}) plus ${overlapSeconds} s`);
        return got;
      };
      const first = await rotate(ctx, hook, 3600);
      const during = await expiry(first, 3600, 'a one-hour rotation');
      ensure(sameInstant(during.previousSecretExpiresAt, first.body.data.previousSecretExpiresAt), 'during the overlap the endpoint does not show the rotation\'s previousSecretExpiresAt');
      const listed = listedItems(await listPagesUntil(dash, 100, (items) => items.some((x) => x?.id === hook.id))).find((x) => x?.id === hook.id);
      ensure(listed && sameInstant(listed.previousSecretExpiresAt, first.body.data.previousSecretExpiresAt), 'during the overlap the endpoint list does not show previousSecretExpiresAt');
      expectSigners(await delivered('during the overlap'), [0, 1], 'during the overlap');

      await rotate(ctx, hook, 3600);
      expectSigners(await delivered('after a second rotation during the overlap'), [0, 1], 'after a second rotation during the overlap');

      const leaked = await rotate(ctx, hook, 0);
      await expiry(leaked, 0, 'a rotation with overlapSeconds 0');
      ensure((await getHook(dash, hook.id)).previousSecretExpiresAt === null, 'after overlapSeconds 0 the endpoint still shows a previousSecretExpiresAt');
      expectSigners(await delivered('after overlapSeconds 0'), [0], 'after overlapSeconds 0');

      await rotate(ctx, hook, 1);
      await pollUntil(ctx, () => getHook(dash, hook.id), (e) => e.previousSecretExpiresAt === null, 'a 1-second overlap did not end (previousSecretExpiresAt still shown)', 10_000);
      expectSigners(await delivered('after a 1-second overlap ended'), [0], 'after a 1-second overlap ended');
    },
  }),

  defineCheck({
    id: 'WEBHOOK-008',
    rule: 'Every delivery of the run carries X-PacSpace-Signature (v1= lowercase hex), -Timestamp (Unix seconds within 300 s), -Event-Id and -Event-Type equal to the body\'s id and type, and -Delivery-Id; its body matches its event\'s schema; an event has one id and one body across deliveries and endpoints, each endpoint its own delivery id.',
    source: `${SOURCE}createWebhookEndpoint; openapi #/components/parameters/WebhookEventIdHeader`,
    needs: ['apiKey', ...NEEDS],
    async run(ctx) {
      const a = await createHook(ctx, 'fanout-a');
      const b = await createHook(ctx, 'fanout-b', { events: ['delta.recorded'] });
      const receipt = (await recordDelta(ctx, customer('fanout'), '1.25')).body?.data?.receiptId;
      const atA = await waitAt(a, ofType('delta.recorded', (x) => x?.receiptId === receipt));
      const atB = await waitAt(b, ofType('delta.recorded', (x) => x?.receiptId === receipt));
      ensure(atA.body.id === atB.body.id, 'one delta.recorded event reached two endpoints with two event ids');
      ensure(atA.headers['x-pacspace-delivery-id'] !== atB.headers['x-pacspace-delivery-id'], 'two endpoints got the same delivery id');
      for (const type of ['checkpoint.created', 'api_key.deleted', 'environment.activated']) {
        const { eventId } = await sendTest(ctx, a, type);
        await waitAt(a, ofEvent(eventId));
      }
      const all = a.receiver.deliveries.filter((d) => d.raw.length);
      const deliveryEvent = new Map<string, string>();
      for (const d of all) {
        const where = `a ${d.body?.type ?? 'non-JSON'} delivery (event ${d.body?.id ?? '?'})`;
        for (const h of DELIVERY_HEADERS) ensure(d.headers[h], `${where} lacks ${h}`);
        const syntax = signatureSyntaxProblem(d.headers['x-pacspace-signature']);
        ensure(!syntax, `${where}: ${syntax}`);
        const ts = d.headers['x-pacspace-timestamp']!;
        ensure(/^\d+$/.test(ts) && Math.abs(d.receivedAt / 1000 - Number(ts)) <= 300, `${where}: X-PacSpace-Timestamp "${ts}" is not Unix seconds within 300 s of its arrival`);
        ensure(d.headers['x-pacspace-event-id'] === d.body?.id, `${where}: X-PacSpace-Event-Id ${d.headers['x-pacspace-event-id']} is not the body's id`);
        ensure(d.headers['x-pacspace-event-type'] === d.body?.type, `${where}: X-PacSpace-Event-Type ${d.headers['x-pacspace-event-type']} is not the body's type`);
        const problems = eventProblems(d.body);
        ensure(problems.length === 0, `${where} does not match its schema: ${problems.slice(0, 3).join('; ')}`);
        const dlv = d.headers['x-pacspace-delivery-id']!;
        ensure((deliveryEvent.get(dlv) ?? d.body.id) === d.body.id, `delivery ${dlv} carried two different events`);
        deliveryEvent.set(dlv, d.body.id);
      }
      for (const [id, copies] of distinctEvents(all)) {
        const [one, ...rest] = copies;
        ensure(rest.every((c) => differingFields(one!.body, c.body, ['id', 'type', 'createdAt', 'environment', 'data']).length === 0), `event ${id} arrived with different bodies (type, createdAt, environment or data)`);
      }
    },
  }),

  defineCheck({
    id: 'WEBHOOK-009',
    rule: 'A non-2xx answer is retried (same event and delivery id, same body, signed afresh); any 2xx acknowledges (no retry). Deliveries are listed newest first, paged, each with every attempt (number, time, the receiver\'s status, duration, an error without the response body) and `succeeded` with no next attempt once acknowledged.',
    source: `${SOURCE}listWebhookDeliveries; openapi #/components/schemas/WebhookDelivery`,
    needs: [...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const hook = await createHook(ctx, 'retry', { events: ['delta.recorded'] });
      // The first arrival of each delta.recorded event is refused; later ones are acknowledged.
      const refused = new Set<string>();
      const stop = hook.receiver.answerWith((d) => {
        if (tagOf(d) !== hook.tag) return undefined;
        const event = String(d.body?.id);
        if (d.body?.type === 'delta.recorded' && !refused.has(event)) {
          refused.add(event);
          return 500;
        }
        return d.body?.type === 'checkpoint.created' ? 204 : undefined;
      });
      try {
        const t1 = await sendTest(ctx, hook, 'delta.recorded');
        const first = await waitAt(hook, ofEvent(t1.eventId));
        ensure(first.headers['x-pacspace-delivery-id'] === t1.deliveryId, `the delivery arrived with X-PacSpace-Delivery-Id ${first.headers['x-pacspace-delivery-id']}, not the ${t1.deliveryId} the test answer named`);
        // Before the retry, the refusal must be listed as a failed attempt of a pending delivery.
        const pending = await pollUntil(
          ctx,
          async () => (await listedDeliveries(dash, hook.id)).find((x) => x?.id === t1.deliveryId),
          (x) => x?.attempts?.length >= 1,
          'the refused attempt is not listed',
        );
        ensure(pending.attempts[0].responseStatus === 500 && (pending.status !== 'succeeded' || pending.attempts.length >= 2), `the refused attempt is listed with status ${pending.attempts[0].responseStatus} and the delivery ${pending.status}`);
        const acked = await waitAt(hook, (d) => ofEvent(t1.eventId)(d) && d !== first && is2xx(d.answered), ctx.scaled(RETRY_WAIT_MS));
        ensure(first.answered === 500, 'the first attempt was not the refused one');
        ensure(acked.headers['x-pacspace-delivery-id'] === t1.deliveryId, 'the retry carries another delivery id');
        ensure(acked.headers['x-pacspace-event-id'] === t1.eventId && acked.body?.id === t1.eventId, 'the retry carries another event id');
        ensure(differingFields(first.body, acked.body, ['id', 'type', 'createdAt', 'environment', 'data']).length === 0, 'the retry\'s body differs from the first attempt\'s (createdAt must stay the same)');
        ensure(verifiesWith(acked, hook.secrets[0]!), 'the retry\'s signature does not verify with its own timestamp');
        ensure(Number(acked.headers['x-pacspace-timestamp']) >= Number(first.headers['x-pacspace-timestamp']), 'the retry is signed with an earlier timestamp than the first attempt');
        const t2 = await sendTest(ctx, hook, 'checkpoint.created');
        await waitAt(hook, (d) => d.headers['x-pacspace-delivery-id'] === t2.deliveryId && d.answered === 204);

        const done = (items: any[]) => [t1, t2].every((t) => items.find((x) => x?.id === t.deliveryId)?.status !== 'pending');
        const items = await pollUntil(ctx, () => listedDeliveries(dash, hook.id), done, 'the acknowledged deliveries are not listed as done');
        for (let i = 1; i < items.length; i++) ensure(Date.parse(items[i - 1].createdAt) >= Date.parse(items[i].createdAt), 'deliveries are not listed newest first');
        const one = items.find((x) => x?.id === t1.deliveryId);
        const two = items.find((x) => x?.id === t2.deliveryId);
        ensure(one && two, 'a delivery that arrived is not listed');
        ensure(items.indexOf(two) < items.indexOf(one) || one.createdAt === two.createdAt, 'the later test event is listed after the earlier one');
        for (const [x, t, type] of [[one, t1, 'delta.recorded'], [two, t2, 'checkpoint.created']] as const) {
          ensure(x.eventId === t.eventId && x.eventType === type, `delivery ${x.id} is listed with event ${x.eventId} ${x.eventType}`);
          ensure(x.status === 'succeeded' && x.nextAttemptAt === null, `acknowledged delivery ${x.id} is listed ${x.status} with nextAttemptAt ${x.nextAttemptAt}`);
          x.attempts.forEach((a: any, i: number) => {
            ensure(a.attempt === i + 1, `delivery ${x.id}: attempt ${i + 1} is numbered ${a.attempt}`);
            ensure(Number.isInteger(a.durationMs) && a.durationMs >= 0, `delivery ${x.id}: attempt ${a.attempt} has durationMs ${a.durationMs}`);
            if (i) ensure(Date.parse(a.attemptedAt) >= Date.parse(x.attempts[i - 1].attemptedAt), `delivery ${x.id}: attempts are not oldest first`);
          });
          const last = x.attempts.at(-1);
          ensure(last && is2xx(last.responseStatus) && last.error === null, `delivery ${x.id}: the acknowledged attempt is listed with status ${last?.responseStatus} and error ${last?.error}`);
        }
        ensure(one.attempts.length >= 2, `the refused delivery lists ${one.attempts.length} attempt(s), not the refusal and the retry`);
        const no = one.attempts[0];
        ensure(no.responseStatus === 500 && typeof no.error === 'string' && no.error.length > 0, `the refused attempt is listed with status ${no.responseStatus} and error ${JSON.stringify(no.error)}`);
        ensure(!no.error.includes(REFUSAL_BODY), 'the refused attempt\'s error quotes the receiver\'s response body');
        ensure(two.attempts.length === 1 && two.attempts[0].responseStatus === 204, `a delivery acknowledged with 204 lists ${two.attempts.length} attempts (status ${two.attempts[0]?.responseStatus}): any 2xx acknowledges`);

        const page1 = await dash.get(`/dashboard/webhooks/${hook.id}/deliveries?page=1&limit=1`);
        const page2 = await dash.get(`/dashboard/webhooks/${hook.id}/deliveries?page=2&limit=1`);
        for (const [p, n] of [[page1, 1], [page2, 2]] as const) {
          expectStatus(p, 200, 'listing deliveries page by page');
          const d = p.body?.data ?? {};
          ensure(d.page === n && d.limit === 1 && d.total === items.length && d.items?.length === 1, `deliveries page ${n} (limit 1) answered page ${d.page}, limit ${d.limit}, total ${d.total} with ${d.items?.length} items; ${items.length} are listed`);
          ensure(d.items[0].id === items[n - 1].id, `deliveries page ${n} (limit 1) is not item ${n} of the list`);
        }
      } finally {
        stop();
      }
    },
  }),

  defineCheck({
    id: 'WEBHOOK-010',
    rule: 'An endpoint receives only events of its environment, of its subscribed types, that occur after its creation and while it is active; enabling it again resumes with new events only. What the target lists for each endpoint agrees.',
    source: `${SOURCE}createWebhookEndpoint, updateWebhookEndpoint; openapi #/components/schemas/WebhookEndpoint`,
    needs: ['apiKey', ...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const key = await ctx.createKey({ name: 'hook-filter' });
      const narrow = await createHook(ctx, 'only-deleted', { events: ['api_key.deleted'] });
      const live = await createHook(ctx, 'live-all', { environment: 'live' });
      const paused = await createHook(ctx, 'paused');
      const late = await createHook(ctx, 'late');
      const marker = await createHook(ctx, 'marker');
      const off = await dash.patch(`/dashboard/webhooks/${paused.id}`, { headers: CSRF, json: { active: false } });
      expectStatus(off, 200, 'disabling an endpoint');
      ensure(off.body?.data?.active === false && (await getHook(dash, paused.id)).active === false, 'the disabled endpoint is not shown with active false');

      const started = Date.now();
      const receipt = (await recordDelta(ctx, customer('filter'), '2.00')).body?.data?.receiptId;
      const deleted = await dash.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF });
      expectStatus(deleted, 200, 'deleting an API key');
      const aboutKey = (d: Delivery) => d.body?.data?.id === key.id;
      const aboutReceipt = (d: Delivery) => d.body?.data?.receiptId === receipt;
      await waitAt(narrow, (d) => d.body?.type === 'api_key.deleted' && aboutKey(d));
      await waitAt(late, (d) => d.body?.type === 'api_key.deleted' && aboutKey(d));
      await waitAt(marker, (d) => d.body?.type === 'delta.recorded' && aboutReceipt(d));
      const last = await waitAt(marker, (d) => d.body?.type === 'api_key.deleted' && aboutKey(d));
      await settle(ctx, started, last);

      const ours = (d: Delivery) => aboutKey(d) || aboutReceipt(d);
      const unwanted: Array<[Hook, (d: Delivery) => boolean, string]> = [
        [narrow, (d) => ours(d) && d.body?.type !== 'api_key.deleted', 'an event type it does not subscribe to'],
        [live, ours, 'a Sandbox (test) event, being a live endpoint'],
        [paused, ours, 'an event that occurred while it was disabled'],
        [late, (d) => d.body?.type === 'api_key.created' && aboutKey(d), 'an event that occurred before it was created'],
      ];
      for (const [hook, bad, what] of unwanted) {
        const got = arrivedAt(hook).filter(bad);
        ensure(got.length === 0, `endpoint ${hook.label} received ${got[0]?.body?.type}: ${what}`);
        const listed = await listedDeliveries(dash, hook.id);
        ensure(!listed.some((x) => got.some((d) => d.body?.id === x.eventId) || (hook === narrow && x.eventType !== 'api_key.deleted')), `endpoint ${hook.label} lists a delivery of ${what}`);
      }
      ensure(!(await listedDeliveries(dash, live.id)).length && !(await listedDeliveries(dash, paused.id)).length, 'an endpoint that must not have received anything lists deliveries');

      const on = await dash.patch(`/dashboard/webhooks/${paused.id}`, { headers: CSRF, json: { active: true } });
      expectStatus(on, 200, 'enabling the endpoint again');
      ensure(on.body?.data?.active === true, 'the enabled endpoint is not shown with active true');
      const resumeStarted = Date.now();
      const again = (await recordDelta(ctx, customer('resume'), '3.00')).body?.data?.receiptId;
      const resumed = await waitAt(paused, (d) => d.body?.type === 'delta.recorded' && d.body?.data?.receiptId === again);
      await settle(ctx, resumeStarted, resumed);
      ensure(!arrivedAt(paused).some(ours), 'the endpoint received, once enabled again, an event that occurred while it was disabled');
    },
  }),

  defineCheck({
    id: 'WEBHOOK-011',
    rule: 'Update needs at least one of url, events, description, active (else 422, nothing changed) and never changes the environment or the secret; a new url gets the events from then on and the retries still pending.',
    source: `${SOURCE}updateWebhookEndpoint; openapi #/components/schemas/WebhookEndpointUpdateRequest`,
    needs: [...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const hook = await createHook(ctx, 'update', { events: ['delta.recorded', 'checkpoint.created'] });
      const before = await getHook(dash, hook.id);
      for (const [body, why] of [[{}, 'an empty update'], [{ environment: 'live' }, 'an update of the environment']] as const) {
        const res = await dash.patch(`/dashboard/webhooks/${hook.id}`, { headers: CSRF, json: body });
        expectProblem(res, 422, 'validation_failed', why);
        const after = await getHook(dash, hook.id);
        const diff = differingFields(before, after, ENDPOINT_FIELDS);
        ensure(diff.length === 0, `${why} was refused but changed ${diff.join(', ')}`);
      }
      const renamed = await dash.patch(`/dashboard/webhooks/${hook.id}`, { headers: CSRF, json: { description: `pacspace conformance ${ctx.runTag} update (renamed)`, events: ['delta.recorded'] } });
      expectStatus(renamed, 200, 'updating description and events');
      const now = await getHook(dash, hook.id);
      ensure(now.description.endsWith('(renamed)') && now.events.length === 1 && now.events[0] === 'delta.recorded', 'the update is not shown by GET');
      const kept = differingFields(before, now, ['id', 'url', 'environment', 'active', 'createdAt']);
      ensure(kept.length === 0, `updating description and events also changed ${kept.join(', ')}`);
      ensure(Date.parse(now.updatedAt) >= Date.parse(before.updatedAt), 'updatedAt went back');

      const oldTag = hook.tag;
      const release = gate<number>();
      let held = false;
      const stop = hook.receiver.answerWith((d) => {
        if (tagOf(d) !== oldTag) return undefined;
        if (held) return 500;
        held = true;
        return release.promise;
      });
      try {
        const t = await sendTest(ctx, hook);
        await waitAt(hook, (d) => d.headers['x-pacspace-delivery-id'] === t.deliveryId);
        await moveHook(ctx, hook, 'update-moved');
        release.open(500);
        const fresh = await sendTest(ctx, hook, 'checkpoint.created');
        const moved = await hook.receiver.waitFor((d) => ofEvent(fresh.eventId)(d) && [oldTag, hook.tag].includes(tagOf(d)));
        ensure(tagOf(moved) === hook.tag, 'an event after the url changed went to the old url');
        ensure(verifiesWith(moved, hook.secrets[0]!), 'after an update, deliveries are no longer signed with the endpoint\'s secret');
        const retried = await waitAt(hook, (d) => d.headers['x-pacspace-delivery-id'] === t.deliveryId, ctx.scaled(RETRY_WAIT_MS));
        ensure(verifiesWith(retried, hook.secrets[0]!), 'after the url changed, the pending retry is not signed with the endpoint\'s secret');
        const shown = await getHook(dash, hook.id);
        ensure(shown.url === hook.url && shown.environment === 'test', 'the endpoint does not show its new url, or its environment changed');
      } finally {
        release.open(500);
        stop();
      }
    },
  }),

  defineCheck({
    id: 'WEBHOOK-012',
    rule: 'Disabling an endpoint ends its deliveries awaiting a retry as `failed` with no next attempt, and makes no further attempt; a test event still reaches it.',
    source: `${SOURCE}updateWebhookEndpoint; openapi #/components/schemas/WebhookDelivery`,
    needs: [...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const hook = await createHook(ctx, 'disable-pending', { events: ['delta.recorded'] });
      const release = gate<number>();
      let first = true;
      const stop = hook.receiver.answerWith((d) => {
        if (tagOf(d) !== hook.tag || d.body?.type !== 'delta.recorded') return undefined;
        if (!first) return 500;
        first = false;
        return release.promise;
      });
      try {
        const t = await sendTest(ctx, hook);
        await waitAt(hook, (d) => d.headers['x-pacspace-delivery-id'] === t.deliveryId);
        expectStatus(await dash.patch(`/dashboard/webhooks/${hook.id}`, { headers: CSRF, json: { active: false } }), 200, 'disabling the endpoint');
        release.open(500);
        const failed = await pollUntil(
          ctx,
          async () => (await listedDeliveries(dash, hook.id)).find((x) => x?.id === t.deliveryId),
          // The refused attempt, answered after the endpoint was disabled, is listed once recorded.
          (x) => x && x.status !== 'pending' && x.attempts?.length >= 1,
          'the delivery awaiting a retry did not end when its endpoint was disabled',
          10_000,
        );
        ensure(failed.status === 'failed' && failed.nextAttemptAt === null, `the refused delivery of a disabled endpoint is ${failed.status} (nextAttemptAt ${failed.nextAttemptAt}), not failed`);
        ensure(failed.attempts.length === 1, `the delivery lists ${failed.attempts.length} attempts: attempts were made after the endpoint was disabled`);
        const probe = await sendTest(ctx, hook, 'checkpoint.created');
        await waitAt(hook, ofEvent(probe.eventId));
      } finally {
        release.open(500);
        stop();
      }
    },
  }),

  defineCheck({
    id: 'WEBHOOK-013',
    rule: 'Deleting an endpoint (200) removes it: GET, update, rotate, test and its deliveries answer 404, the list no longer has it, and a retry that was pending is not made.',
    source: `${SOURCE}deleteWebhookEndpoint`,
    needs: [...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const hook = await createHook(ctx, 'delete', { events: ['delta.recorded'] });
      const release = gate<number>();
      let first = true;
      const stop = hook.receiver.answerWith((d) => {
        if (tagOf(d) !== hook.tag) return undefined;
        if (!first) return 500;
        first = false;
        return release.promise;
      });
      try {
        const sentAt = Date.now();
        const t = await sendTest(ctx, hook);
        const attempt = await waitAt(hook, (d) => d.headers['x-pacspace-delivery-id'] === t.deliveryId);
        expectStatus(await dash.delete(`/dashboard/webhooks/${hook.id}`, { headers: CSRF }), 200, 'deleting the endpoint');
        release.open(500);
        for (const [what, res] of [
          ['GET', await dash.get(`/dashboard/webhooks/${hook.id}`)],
          ['PATCH', await dash.patch(`/dashboard/webhooks/${hook.id}`, { headers: CSRF, json: { description: 'gone' } })],
          ['rotate', await dash.post(`/dashboard/webhooks/${hook.id}/rotate-secret`, { headers: CSRF, json: {} })],
          ['test', await dash.post(`/dashboard/webhooks/${hook.id}/test`, { headers: CSRF, json: {} })],
          ['deliveries', await dash.get(`/dashboard/webhooks/${hook.id}/deliveries`)],
        ] as const) expectProblem(res, 404, 'not_found', `${what} of a deleted endpoint`);
        const pages = await listPagesUntil(dash, 100, (items) => items.some((x) => x?.id === hook.id));
        ensure(!listedItems(pages).some((x) => x?.id === hook.id), 'the deleted endpoint is still listed');
        // A retry would come as soon after the refusal as the first attempt came after the test.
        await settle(ctx, sentAt, attempt);
        const retries = arrivedAt(hook).filter((d) => d !== attempt && (d.raw !== attempt.raw || d.headers['x-pacspace-signature'] !== attempt.headers['x-pacspace-signature']));
        ensure(retries.length === 0, 'a deleted endpoint still received a retry');
      } finally {
        release.open(500);
        stop();
      }
    },
  }),

  defineCheck({
    id: 'WEBHOOK-014',
    rule: 'A test event of each type (202 with eventId and deliveryId) reaches only that endpoint, subscribed or not, disabled or not, with a new evt_ id, its type\'s schema, the endpoint\'s environment and sample data outside the ledger; it is listed under the endpoint\'s deliveries.',
    source: `${SOURCE}sendWebhookTestEvent`,
    needs: ['apiKey', ...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const target = await createHook(ctx, 'test-target', { events: ['api_key.deleted'] });
      const bystander = await createHook(ctx, 'test-bystander');
      expectStatus(await dash.patch(`/dashboard/webhooks/${target.id}`, { headers: CSRF, json: { active: false } }), 200, 'disabling the endpoint');
      const started = Date.now();
      const sent: Array<{ type: string; eventId: string; deliveryId: string }> = [];
      for (const type of ALL_EVENTS) sent.push({ type, ...(await sendTest(ctx, target, type)) });
      ensure(new Set(sent.map((s) => s.eventId)).size === sent.length, 'two test events got the same event id');
      let last: Delivery | undefined;
      for (const s of sent) {
        const d = await waitAt(target, ofEvent(s.eventId));
        last = !last || d.receivedAt > last.receivedAt ? d : last;
        ensure(d.body?.type === s.type && d.headers['x-pacspace-delivery-id'] === s.deliveryId, `the ${s.type} test event arrived as ${d.body?.type} with delivery id ${d.headers['x-pacspace-delivery-id']}`);
        ensure(d.body?.environment === target.environment, `the ${s.type} test event is in environment ${d.body?.environment}, not the endpoint's`);
        const problems = eventProblems(d.body);
        ensure(problems.length === 0, `the ${s.type} test event does not match its schema: ${problems.slice(0, 3).join('; ')}`);
        ensure(verifiesWith(d, target.secrets[0]!), `the ${s.type} test event is not signed with the endpoint's secret`);
        if (s.type === 'delta.recorded') {
          const res = await ctx.api.get(`/api/v1/receipts/${encodeURIComponent(d.body.data.receiptId)}`, { headers: ctx.keyHeaders() });
          ensure(res.status === 404, `the test event's sample receipt ${d.body.data.receiptId} is in the ledger (GET answered ${res.status})`);
        }
      }
      await settle(ctx, started, last!);
      const leaked = arrivedAt(bystander).filter((d) => sent.some((s) => s.eventId === d.body?.id));
      ensure(leaked.length === 0, `a test event (${leaked[0]?.body?.type}) also reached another endpoint`);
      const listed = await listedDeliveries(dash, target.id);
      for (const s of sent) ensure(listed.some((x) => x.id === s.deliveryId && x.eventId === s.eventId && x.eventType === s.type), `the ${s.type} test delivery is not listed under the endpoint`);
      ensure(!(await listedDeliveries(dash, bystander.id)).some((x) => sent.some((s) => s.eventId === x.eventId)), 'another endpoint lists a test delivery');
    },
  }),

  defineCheck({
    id: 'WEBHOOK-015',
    rule: 'A webhook URL must be public https: a private, link-local, shared or other non-public address in any spelling (dotted, decimal, hex, IPv6, IPv4-mapped) is 422 validation_failed on create and on update, and nothing is created or changed; a redirect answered by the receiver is a failed attempt and is not followed.',
    source: 'openapi #/components/schemas/WebhookUrl; openapi op createWebhookEndpoint, updateWebhookEndpoint',
    needs: [...NEEDS],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const description = `pacspace conformance ${ctx.runTag} non-public`;
      for (const url of NON_PUBLIC_URLS) {
        const res = await dash.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['delta.recorded'], description } });
        if (res.status === 201 && typeof res.body?.data?.id === 'string') {
          const id = res.body.data.id;
          ctx.track('webhook endpoint', id, description, () => dash.delete(`/dashboard/webhooks/${id}`, { headers: CSRF }));
        }
        expectProblem(res, 422, 'validation_failed', `creating an endpoint for ${url}`);
      }
      const listed = listedItems(await listPagesUntil(dash, 100, () => false));
      ensure(!listed.some((x) => x?.description === description), 'a refused endpoint was created all the same');

      const hook = await createHook(ctx, 'redirect', { events: ['delta.recorded'] });
      const before = await getHook(dash, hook.id);
      for (const url of NON_PUBLIC_URLS.slice(1, 3)) {
        expectProblem(await dash.patch(`/dashboard/webhooks/${hook.id}`, { headers: CSRF, json: { url } }), 422, 'validation_failed', `changing the url to ${url}`);
      }
      const after = await getHook(dash, hook.id);
      ensure(differingFields(before, after, ENDPOINT_FIELDS).length === 0, 'a refused url change changed the endpoint');

      const elsewhere = `${hook.tag}-elsewhere`;
      const stop = hook.receiver.answerWith((d) => (tagOf(d) === hook.tag ? { status: 307, headers: { location: taggedUrl(hook.receiver, elsewhere) } } : undefined));
      try {
        const sentAt = Date.now();
        const t = await sendTest(ctx, hook);
        const first = await waitAt(hook, ofEvent(t.eventId));
        await settle(ctx, sentAt, first);
        ensure(!hook.receiver.deliveries.some((d) => tagOf(d) === elsewhere), 'a redirect answered by the receiver was followed');
        const listed = await pollUntil(
          ctx,
          async () => (await listedDeliveries(dash, hook.id)).find((x) => x?.id === t.deliveryId),
          (x) => x?.attempts?.length >= 1,
          'the redirected attempt is not listed',
        );
        const a = listed.attempts[0];
        ensure(a.responseStatus === 307 && typeof a.error === 'string' && a.error.length > 0 && listed.status !== 'succeeded', `a redirect is listed as status ${a.responseStatus}, error ${JSON.stringify(a.error)}, delivery ${listed.status}: it must be a failed attempt`);
      } finally {
        stop();
      }
    },
  }),
] as Check[]).map(deletingItsEndpoints);

/** Non-public webhook targets in several spellings (none of them this machine's loopback). */
const NON_PUBLIC_URLS = [
  'https://10.0.0.1/hook',
  'https://169.254.169.254/latest/meta-data',
  'https://0xa9fea9fe/hook',
  'https://167772161/hook',
  'https://100.64.0.1/hook',
  'https://[::ffff:a9fe:a9fe]/hook',
  'http://example.com/hook',
];

export type { CheckContext };
