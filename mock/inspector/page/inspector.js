// The request inspector page: polls the sandbox's control surface (same origin only) and shows
// recent requests, the outbox, webhook deliveries, the clock and the chaos settings. Everything
// it shows may be hostile input (a request's path, headers, body), so it is only ever set as
// text (textContent, never innerHTML), and links are followed only when they are http(s).
'use strict';

(() => {
  const TOKEN_KEY = 'pacspace-sandbox-control-token';
  const POLL_MS = 1000;
  const LIST_LIMIT = 50;
  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  /** requestId → { row, detail, open } */
  const rows = new Map();
  let timer;

  const $ = (id) => document.getElementById(id);

  /** An element with text children only; `props` are set as properties (never as HTML). */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === 'dataset') Object.assign(node.dataset, value);
      else node[key] = value;
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** An anchor for a URL the page may navigate to: http(s) only; anything else is plain text. */
  function link(url, text) {
    let parsed;
    try {
      parsed = new URL(url, location.href);
    } catch {
      return h('span', {}, text);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return h('span', {}, text);
    return h('a', { href: parsed.href, rel: 'noreferrer noopener' }, text);
  }

  function status(text, isError) {
    const node = $('status');
    node.textContent = text;
    node.classList.toggle('error', Boolean(isError));
  }

  class TokenNeeded extends Error {}

  /** A control request to this origin, with the token when there is one. */
  async function api(path, init = {}) {
    const headers = { 'X-Sandbox-Inspector': 'page', ...(init.headers || {}) };
    if (token) headers['X-Sandbox-Control-Token'] = token;
    const response = await fetch(path, { ...init, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' });
    const body = await response.json().catch(() => null);
    if (response.status === 401 && body && body.code === 'unauthenticated') {
      $('token-panel').hidden = false;
      throw new TokenNeeded(token ? 'The control token was refused.' : 'This sandbox needs its control token.');
    }
    return { status: response.status, body };
  }

  const problemText = (body, fallback) => (body && (body.detail || body.title)) || fallback;

  function authText(auth) {
    switch (auth.kind) {
      case 'apiKey':
        return `key ${auth.publicKey || auth.keyId}`;
      case 'session':
        return `session ${auth.userId}`;
      case 'refused':
        return `refused: ${auth.code}`;
      default:
        return auth.kind;
    }
  }

  const statusClass = (code) => `s${String(code)[0]}xx`;

  function headerList(fields) {
    if (!fields.length) return h('p', { className: 'muted' }, 'no header fields');
    return h('dl', { className: 'headers' }, fields.map((f) => [h('dt', {}, f.name), h('dd', {}, f.value)]));
  }

  function bodyBlock(body) {
    if (!body) return h('p', { className: 'muted' }, 'no body');
    let text = body.text;
    try {
      if (!body.truncated) text = JSON.stringify(JSON.parse(body.text), null, 2);
    } catch {
      // Not JSON: shown as kept.
    }
    return h('div', {}, h('pre', { className: 'body' }, text), h('p', { className: 'muted' }, `${body.bytes} bytes${body.truncated ? ', cut to what the inspector keeps' : ''}`));
  }

  function deliveryBlock(d) {
    return h(
      'div',
      { className: 'delivery', dataset: { deliveryId: d.id } },
      h('p', {}, h('strong', {}, d.eventType), ` → ${d.endpointUrl} `, h('span', { className: `badge ${d.status}` }, d.status), d.requestId ? ` · request ${d.requestId}` : ''),
      d.attempts.length === 0 ? h('p', { className: 'muted' }, 'no attempt yet') : null,
      d.attempts.map((a) =>
        h(
          'details',
          { className: 'attempt', dataset: { key: `${d.id}/${a.attempt}` } },
          h('summary', {}, `attempt ${a.attempt} at ${a.attemptedAt}: ${a.responseStatus === null ? 'no answer' : a.responseStatus}${a.error ? ` (${a.error})` : ''}, ${a.durationMs} ms`),
          headerList(a.headers),
        ),
      ),
      d.nextAttemptAt ? h('p', { className: 'muted' }, `next attempt ${d.nextAttemptAt}`) : null,
      h('details', { className: 'payload' }, h('summary', {}, 'payload'), h('pre', { className: 'body' }, d.payload)),
    );
  }

  async function copy(text, pre) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission: select the command so that Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand('copy');
    }
    status('Copied the curl command.');
  }

  function detailContent(x) {
    const pre = h('pre', { className: 'curl' }, x.curl);
    const copyButton = h('button', { type: 'button', className: 'copy-curl' }, 'Copy as curl');
    copyButton.addEventListener('click', () => void copy(x.curl, pre));
    return h(
      'div',
      { className: 'exchange' },
      h('div', { className: 'curl-block' }, copyButton, pre),
      x.violations.length
        ? h('div', {}, h('h4', {}, 'Validation violations'), h('ul', {}, x.violations.map((v) => h('li', {}, `${v.location.join('.')}: ${v.message} (${v.code})`))))
        : null,
      h('div', { className: 'columns' },
        h('div', {}, h('h4', {}, `Request: ${x.summary.method} ${x.summary.url}`), headerList(x.request.headers), bodyBlock(x.request.body)),
        h('div', {}, h('h4', {}, `Response: ${x.summary.status}`), headerList(x.response.headers), bodyBlock(x.response.body)),
      ),
      h('h4', {}, `Webhook deliveries (${x.webhookDeliveries.length})`),
      x.webhookDeliveries.length ? x.webhookDeliveries.map(deliveryBlock) : h('p', { className: 'muted' }, 'none'),
    );
  }

  /** Which attempts of a box are open, to reopen them once it is drawn again. */
  const openAttempts = (box) => new Set([...box.querySelectorAll('details.attempt[open]')].map((d) => d.dataset.key));
  function reopen(box, keys) {
    for (const d of box.querySelectorAll('details.attempt')) if (keys.has(d.dataset.key)) d.open = true;
  }

  async function loadDetail(entry, requestId) {
    const { status: code, body } = await api(`/__sandbox/requests/${encodeURIComponent(requestId)}`);
    const seen = JSON.stringify(body);
    // Unchanged: left as it is (a selection, an open attempt stay).
    if (seen === entry.shown) return;
    entry.shown = seen;
    const cell = entry.detail.firstChild;
    const keys = openAttempts(cell);
    cell.replaceChildren(code === 200 ? detailContent(body.data) : h('p', { className: 'error' }, problemText(body, `HTTP ${code}`)));
    reopen(cell, keys);
  }

  function toggle(requestId) {
    const entry = rows.get(requestId);
    entry.open = !entry.open;
    entry.detail.hidden = !entry.open;
    entry.row.classList.toggle('open', entry.open);
    entry.row.setAttribute('aria-expanded', String(entry.open));
    if (entry.open) {
      entry.shown = undefined;
      loadDetail(entry, requestId).catch(report);
    }
  }

  function summaryCells(s) {
    return [
      h('td', {}, s.at.slice(11, 23)),
      h('td', {}, s.environment),
      h('td', {}, s.method),
      h('td', { className: 'path' }, s.url),
      h('td', {}, s.operationId || '—'),
      h('td', {}, authText(s.auth)),
      h('td', { className: statusClass(s.status) }, String(s.status)),
      h('td', {}, s.problemCode || ''),
      h('td', { className: 'num' }, String(s.durationMs)),
      h('td', { className: 'num' }, String(s.deliveries)),
    ];
  }

  function filters() {
    const params = new URLSearchParams({ limit: String(LIST_LIMIT) });
    for (const [id, name] of [['filter-operation', 'operationId'], ['filter-status', 'status'], ['filter-key', 'keyId']]) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    return params;
  }

  async function refreshRequests() {
    const { status: code, body } = await api(`/__sandbox/requests?${filters()}`);
    if (code !== 200) {
      const violations = body && body.validation ? `: ${body.validation.map((v) => `${v.location.join('.')} ${v.message}`).join('; ')}` : '';
      $('requests-meta').textContent = `${problemText(body, `HTTP ${code}`)}${violations}`;
      $('requests-meta').classList.add('error');
      return;
    }
    const page = body.data;
    $('requests-meta').classList.remove('error');
    $('requests-meta').textContent =
      page.capacity === 0 ? 'The inspector is off (--inspect-history 0).' : `${page.total} kept (the last ${page.capacity} are kept); newest first, showing ${page.items.length}.`;
    const tbody = $('requests').tBodies[0];
    const seen = new Set();
    const ordered = [];
    for (const s of page.items) {
      seen.add(s.requestId);
      let entry = rows.get(s.requestId);
      if (!entry) {
        const row = h('tr', { className: 'request', tabIndex: 0, dataset: { requestId: s.requestId } });
        row.setAttribute('aria-expanded', 'false');
        row.addEventListener('click', () => toggle(s.requestId));
        row.addEventListener('keydown', (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            toggle(s.requestId);
          }
        });
        const detail = h('tr', { className: 'detail', hidden: true }, h('td', { colSpan: 10 }, h('p', { className: 'muted' }, 'Loading…')));
        entry = { row, detail, open: false };
        rows.set(s.requestId, entry);
      }
      entry.row.replaceChildren(...summaryCells(s));
      ordered.push(entry.row, entry.detail);
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    tbody.replaceChildren(...ordered);
    // Open exchanges follow their deliveries as attempts are made.
    await Promise.all([...rows].filter(([, e]) => e.open).map(([id, e]) => loadDetail(e, id)));
  }

  async function refreshClock() {
    const { status: code, body } = await api('/__sandbox/clock');
    $('clock-now').textContent = code === 200 ? `${body.data.now} (ahead of real time by ${body.data.offsetSeconds} s)` : problemText(body, `HTTP ${code}`);
  }

  async function refreshChaos() {
    const { status: code, body } = await api('/__sandbox/chaos');
    const box = $('chaos');
    if (code === 404 || (code === 200 && !body.data.active)) {
      box.replaceChildren(h('p', { className: 'muted' }, 'no chaos'));
    } else if (code === 200) {
      box.replaceChildren(h('p', {}, `active, seed ${body.data.seed}`), h('pre', {}, JSON.stringify(body.data.settings, null, 2)));
    } else {
      box.replaceChildren(h('p', { className: 'error' }, problemText(body, `HTTP ${code}`)));
    }
  }

  // A link's token is live (it verifies an address or resets a password): the page shows it
  // masked, so a screenshot or a shared screen does not hand it on; following the link uses it.
  function maskedToken(url) {
    return url.replace(/([?&]token=)[^&#]+/g, '$1••••••••');
  }

  async function refreshOutbox() {
    const { status: code, body } = await api('/__sandbox/outbox');
    if (code !== 200) return;
    const items = body.data.slice().reverse();
    $('outbox').replaceChildren(
      ...(items.length
        ? items.map((m) => h('li', { className: 'mail' }, h('p', {}, h('strong', {}, m.subject), ` to ${m.to} (${m.kind}) at ${m.sentAt}`), h('p', {}, link(m.link, maskedToken(m.link)))))
        : [h('li', { className: 'muted' }, 'nothing sent yet')]),
    );
  }

  async function refreshWebhooks() {
    const [endpoints, deliveries] = await Promise.all([api('/__sandbox/webhook-endpoints?limit=100'), api('/__sandbox/webhook-deliveries?limit=100')]);
    if (endpoints.status !== 200 || deliveries.status !== 200) return;
    const byEndpoint = new Map();
    for (const d of deliveries.body.data.items) {
      if (!byEndpoint.has(d.endpointId)) byEndpoint.set(d.endpointId, []);
      byEndpoint.get(d.endpointId).push(d);
    }
    const box = $('webhooks');
    const seen = JSON.stringify([endpoints.body, deliveries.body]);
    if (seen === box.dataset.shown) return;
    box.dataset.shown = seen;
    const open = new Set([...box.querySelectorAll('details.endpoint[open]')].map((d) => d.dataset.endpointId));
    const attempts = openAttempts(box);
    if (endpoints.body.data.items.length === 0) {
      box.replaceChildren(h('p', { className: 'muted' }, 'no endpoints'));
      return;
    }
    box.replaceChildren(
      ...endpoints.body.data.items.map((e) => {
        const details = h(
          'details',
          { className: 'endpoint', dataset: { endpointId: e.id } },
          h('summary', {}, `${e.url} (${e.environment}${e.active ? '' : ', disabled'}): ${e.deliveries} deliveries`),
          h('p', { className: 'muted' }, `${e.id} · ${e.events.join(', ')}`),
          (byEndpoint.get(e.id) || []).map(deliveryBlock),
        );
        details.open = open.has(e.id);
        return details;
      }),
    );
    reopen(box, attempts);
  }

  function report(error) {
    status(error instanceof TokenNeeded ? error.message : `The sandbox did not answer (${error.message}); retrying.`, true);
  }

  async function poll() {
    clearTimeout(timer);
    // Every part settles before the next poll (and before a failure is reported).
    const results = await Promise.allSettled([refreshRequests(), refreshClock(), refreshChaos(), refreshOutbox(), refreshWebhooks()]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      report(failed.reason);
      // Without the token every request is refused: wait for it (the form polls again).
      if (failed.reason instanceof TokenNeeded) return;
    } else {
      $('token-panel').hidden = true;
      status(`Updated ${new Date().toLocaleTimeString()}`);
    }
    if ($('live').checked) timer = setTimeout(poll, POLL_MS);
  }

  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    void poll();
  });
  for (const id of ['filter-operation', 'filter-status', 'filter-key']) $(id).addEventListener('change', () => void poll());
  $('live').addEventListener('change', () => void poll());

  $('clear-history').addEventListener('click', async () => {
    try {
      const { status: code, body } = await api('/__sandbox/requests', { method: 'DELETE' });
      status(code === 200 ? `Cleared ${body.data.cleared} requests.` : problemText(body, `HTTP ${code}`), code !== 200);
      rows.clear();
      await poll();
    } catch (error) {
      report(error);
    }
  });

  $('clock-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const seconds = Number($('advance-seconds').value);
    try {
      const { status: code, body } = await api('/__sandbox/clock/advance', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ seconds }),
      });
      status(code === 200 ? `Clock advanced by ${seconds} s.` : problemText(body, `HTTP ${code}`), code !== 200);
      await poll();
    } catch (error) {
      report(error);
    }
  });

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token-input').value;
    $('token-input').value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    void poll();
  });

  void poll();
})();
