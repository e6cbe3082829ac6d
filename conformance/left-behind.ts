// What a run creates that no operation of the contract deletes — accounts, access requests,
// ledger entries, environment activations — read from what it sent and what the target
// answered, so that the report lists it beside what the cleanup could not delete. A request
// whose answer never came is not counted: it is unknown whether it created anything.
import type { Exchange } from './lib/http.ts';
import type { Leftover } from './report/format.ts';

/** Customers named in a ledger leftover, at most (the count says how many more). */
const NAMED_CUSTOMERS = 5;

const bodyOf = (exchange: Exchange): Record<string, unknown> => {
  try {
    const body: unknown = JSON.parse(exchange.requestBody ?? '');
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const stringIn = (body: Record<string, unknown>, member: string) => (typeof body[member] === 'string' ? (body[member] as string) : undefined);
const created = (exchange: Exchange, method: string, path: string) =>
  exchange.method.toUpperCase() === method && exchange.path.split('?')[0] === path && exchange.status >= 200 && exchange.status < 300;
/** The id a ledger answer names (a replay names the receipt it first recorded), or a stand-in unique to this answer. */
const ledgerIdOf = (exchange: Exchange, member: string) => {
  const id: unknown = exchange.body?.data?.[member];
  return typeof id === 'string' ? id : `#${exchange.id}`;
};

/**
 * The leftovers no cleanup can remove, from the run's exchanges. `ownEmails` are the accounts the
 * run was given (asking access for one of them creates no request).
 */
export function undeletable(exchanges: readonly Exchange[], ownEmails: readonly (string | undefined)[]): Leftover[] {
  const own = new Set(ownEmails.filter((e): e is string => e !== undefined).map((e) => e.toLowerCase()));
  const accounts = new Set<string>();
  const asked = new Set<string>();
  const environments = new Set<string>();
  const customers = new Set<string>();
  // By id: an idempotent replay (201 again, Idempotent-Replayed: true) names the receipt it recorded first.
  const deltas = new Set<string>();
  const checkpoints = new Set<string>();
  for (const exchange of exchanges) {
    if (exchange.scope === 'cleanup') continue;
    if (created(exchange, 'POST', '/dashboard/auth/register')) {
      const email = stringIn(bodyOf(exchange), 'email');
      if (email) accounts.add(email.toLowerCase());
    } else if (created(exchange, 'POST', '/dashboard/auth/request-access')) {
      const email = stringIn(bodyOf(exchange), 'email');
      if (email && !own.has(email.toLowerCase())) asked.add(email.toLowerCase());
    } else if (created(exchange, 'POST', '/dashboard/contracts/provision') && exchange.status === 201) {
      environments.add(stringIn(bodyOf(exchange), 'environment') ?? '(unnamed)');
    } else if (created(exchange, 'POST', '/api/v1/balance/delta') && exchange.status === 201) {
      deltas.add(ledgerIdOf(exchange, 'receiptId'));
      const customer = stringIn(bodyOf(exchange), 'customerId');
      if (customer) customers.add(customer);
    } else if (created(exchange, 'POST', '/api/v1/balance/checkpoint') && exchange.status === 201) {
      checkpoints.add(ledgerIdOf(exchange, 'checkpointId'));
      const customer = stringIn(bodyOf(exchange), 'customerId');
      if (customer) customers.add(customer);
    }
  }
  const left: Leftover[] = [];
  for (const email of accounts) left.push({ kind: 'account', id: email, reason: 'no operation of the contract deletes an account' });
  for (const email of asked) left.push({ kind: 'access request', id: email, reason: 'no operation of the contract deletes an access request' });
  for (const environment of environments) left.push({ kind: 'environment', id: environment, reason: 'provisioned by the run (--provision); provisioning cannot be undone' });
  if (deltas.size + checkpoints.size > 0) {
    const named = [...customers].slice(0, NAMED_CUSTOMERS).join(', ');
    const more = customers.size > NAMED_CUSTOMERS ? ` and ${customers.size - NAMED_CUSTOMERS} more` : '';
    left.push({
      kind: 'ledger entries',
      id: `${deltas.size} delta${deltas.size === 1 ? '' : 's'}, ${checkpoints.size} checkpoint${checkpoints.size === 1 ? '' : 's'}`,
      name: `${customers.size} customer${customers.size === 1 ? '' : 's'}: ${named}${more}`,
      reason: 'the ledger is append-only: no operation deletes a delta or a checkpoint',
    });
  }
  return left;
}
