// The chaos settings (the control contract's ChaosSettings) and the checks a schema cannot
// state: operation names the public contract knows, min ≤ max, and an operation's fault rates
// at most 1 together. Used by `PUT /__sandbox/chaos` (after Prism validated the body against
// the schema) and by `--chaos FILE` (after Ajv did, see file.ts): one set of rules for both.
import type { components } from '../../generated/sandbox-control.d.ts';
import { loadBundle } from '../../contract/document.ts';
import { listOperations } from '../../contract/operations.ts';
import { latencyBounds } from './latency.ts';

export type ChaosSettings = components['schemas']['ChaosSettings'];
export type ChaosOperationSettings = components['schemas']['ChaosOperationSettings'];
export type ChaosWebhookSettings = components['schemas']['ChaosWebhookSettings'];
export type ChaosState = components['schemas']['ChaosState'];

/** A violation as the public contract's ValidationViolation has it; `location` without the `body` prefix. */
export type SettingsViolation = { location: string[]; severity: 'Error'; code: string; message: string };

/** Every operation of the whole public API. */
export const ALL_OPERATIONS = '*';

let publicOperationIds: Set<string> | undefined;
/** The operationIds of the public contract (generated/openapi.json), read once. */
export function publicOperations(): Set<string> {
  publicOperationIds ??= new Set(listOperations(loadBundle('openapi')).map((op) => op.operationId));
  return publicOperationIds;
}

/** The violations of well-formed settings taken as a whole (empty when they are good). */
export function settingsViolations(settings: ChaosSettings, operations: Set<string> = publicOperations()): SettingsViolation[] {
  const found: SettingsViolation[] = [];
  for (const [name, op] of Object.entries(settings.operations ?? {})) {
    const at = ['operations', name];
    if (name !== ALL_OPERATIONS && !operations.has(name)) {
      found.push({ location: at, severity: 'Error', code: 'unknown-operation', message: `"${name}" is not an operationId of the public contract (or "*")` });
      continue;
    }
    if (op.latency) checkBounds(op.latency, [...at, 'latency'], found);
    const rates = (op.error?.rate ?? 0) + (op.hangRate ?? 0) + (op.resetRate ?? 0);
    // A little slack for sums like 0.1 + 0.2 + 0.7 that binary floating point puts above 1.
    if (rates > 1 + 1e-9) {
      found.push({ location: at, severity: 'Error', code: 'rates-over-one', message: `error.rate, hangRate and resetRate add up to ${+rates.toFixed(6)}; at most 1` });
    }
  }
  if (settings.webhooks?.delay) checkBounds(settings.webhooks.delay, ['webhooks', 'delay'], found);
  return found;
}

function checkBounds(latency: NonNullable<ChaosOperationSettings['latency']>, at: string[], found: SettingsViolation[]) {
  if (latency.distribution === 'fixed') return;
  const { minMs, maxMs } = latencyBounds(latency);
  if (minMs > maxMs) found.push({ location: at, severity: 'Error', code: 'min-above-max', message: `minMs (${minMs}) is above maxMs (${maxMs})` });
}

/** Whether settings ask for any chaos at all. */
export function isActive(settings: ChaosSettings): boolean {
  return Object.keys(settings.operations ?? {}).length > 0 || settings.webhooks !== undefined;
}
