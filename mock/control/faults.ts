// Named faults, each breaking exactly one rule the conformance suite claims to check. They
// exist only so the suite can prove it catches broken servers (`npm run conformance:mutants`);
// every one is off unless switched on through the control surface.
export const FAULTS = {
  'secret-in-list': 'GET /dashboard/api-keys includes each key\'s secretKey (reveal-once broken).',
  'csrf-not-enforced': 'Unsafe dashboard requests without X-Pacspace-CSRF: 1 are accepted.',
  'bad-key-403': 'An unknown or malformed API key gets 403 instead of 401.',
  'wrong-environment-key-accepted': 'A pk_live_ key is accepted on the sandbox listener and a pk_test_ key on the production one.',
  'disabled-key-accepted': 'A disabled API key still authenticates.',
  'retry-after-missing': '429 answers carry no Retry-After header.',
  'cookie-without-httponly': 'Session cookies are set without the HttpOnly attribute.',
  'cookie-without-secure': 'Session cookies are set without the Secure attribute.',
  'cookie-without-samesite': 'Session cookies are set without a SameSite attribute.',
  'login-returns-token': 'The login response body carries the access token value (sessions are cookie-only).',
  'login-tells-unknown-email': 'A login with an unknown email gets a different answer than one with a wrong password (user enumeration).',
  'reset-tells-unknown-email': 'A password-reset request for an unknown email gets 404 instead of the same 202 as a known one (user enumeration).',
  'logout-keeps-session': 'Logout answers 200 but does not revoke the session: its access cookie keeps working.',
  'refresh-reuse-undetected': 'A rotated refresh cookie is accepted again instead of revoking the session family.',
  'deleted-key-accepted': 'A deleted API key still authenticates on the Balance API.',
  'regenerated-secret-still-valid': 'After a regenerate, the replaced secret still authenticates.',
  'permission-not-enforced': 'A key lacking an operation\'s permission is let through instead of getting 403.',
  'key-in-query-accepted': 'A key sent as ?api_key= in the query string authenticates.',
  'auth-errors-tell-cause': 'The 401 for a bad API key says why (malformed, unknown, wrong secret, disabled) instead of one body for every cause.',
  'weak-key-secrets': 'New key secrets are 12 base62 characters (about 71 bits) instead of at least 128 bits.',
  'key-env-parts-disagree': 'A created test key is revealed with sk_live_ in secretKey and fullKey (display only; the issued key is unchanged).',
  'secret-in-get': 'GET /dashboard/api-keys/{id} includes the key\'s secretKey (reveal-once broken).',
  'stack-trace-in-errors': '404 problems carry a stack member with a Node stack trace.',
  'allow-header-missing': '405 answers carry no Allow header.',
  'content-type-not-enforced': 'Bodies sent with a non-JSON content type (text/plain) are parsed as JSON instead of getting 415.',
  'body-limit-missing': 'Bodies over 1 MiB are read and parsed instead of getting 413.',
  'invalid-json-echoed': 'The 400 invalid_json detail quotes the unparsable body.',
  'float-arithmetic': 'Running balances are summed as JS numbers, so large amounts lose digits (exact decimals broken).',
  'idempotency-ignored': 'A replay with the same Idempotency-Key and body records the delta again instead of replaying the first response.',
  'idempotency-conflict-accepted': 'The same Idempotency-Key with another body is recorded instead of getting 409 idempotency_key_reused.',
  'duplicate-reference-accepted': 'A repeated referenceId for the same customer is recorded instead of getting 409 duplicate_reference.',
  'compare-discrepancy-wrong': 'POST /api/v1/balance/compare reports the discrepancy with its sign flipped (theirBalance - yourBalance).',
  'leaf-hash-without-domain-separation': 'Receipt leaves are hashed without the 0x00 prefix (RFC 6962 domain separation broken).',
  'inclusion-proof-wrong': 'Inclusion proofs list their audit path root side first, so they no longer verify.',
  'verify-requires-key': 'GET /api/v1/verify/{proofRoot} answers 401 without an API key (public verification broken).',
  'checkpoint-chain-broken': 'Every checkpoint has previousProofRoot null, so checkpoints no longer chain.',
  'webhook-signature-without-timestamp': 'Webhook signatures are HMACs over the body alone, not over timestamp + "." + body.',
  'webhook-single-signature-during-rotation': 'During a signing-secret rotation\'s overlap deliveries carry only the new secret\'s signature.',
  'webhook-secret-in-payload': 'Webhook delivery bodies carry the endpoint\'s signing secret.',
  'undocumented-status': 'POST /api/v1/balance/checkpoint answers 200, a status the contract does not document for it (201 is).',
} as const;

export type FaultName = keyof typeof FAULTS;

export const isFaultName = (name: string): name is FaultName => Object.hasOwn(FAULTS, name);

export function createFaults() {
  const active = new Set<FaultName>();
  return {
    has: (name: FaultName) => active.has(name),
    set(name: FaultName, on: boolean) {
      if (on) active.add(name);
      else active.delete(name);
    },
    active: () => [...active],
    clear: () => active.clear(),
  };
}

export type Faults = ReturnType<typeof createFaults>;
