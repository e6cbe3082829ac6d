// Sample `data` for `POST /dashboard/webhooks/{id}/test`: realistic, valid against each event's
// schema, internally consistent (the receipt's leafHash and the checkpoint's proofRoot are
// computed as the Proofs section says), but not part of any ledger and never a real key.
import type { components } from '../../generated/openapi.d.ts';
import { leafHash } from '../../protocol/merkle.ts';
import { randomId } from '../security/secrets.ts';
import type { KeyEnvironment } from '../state/events.ts';
import type { WebhookEventType } from '../state/webhooks.ts';

type Schemas = components['schemas'];
type DataOf = {
  'delta.recorded': Schemas['DeltaRecordedEvent']['data'];
  'delta.confirmed': Schemas['DeltaConfirmedEvent']['data'];
  'checkpoint.created': Schemas['CheckpointCreatedEvent']['data'];
  'environment.activated': Schemas['EnvironmentActivatedEvent']['data'];
  'api_key.created': Schemas['ApiKeyCreatedEvent']['data'];
  'api_key.regenerated': Schemas['ApiKeyRegeneratedEvent']['data'];
  'api_key.enabled': Schemas['ApiKeyEnabledEvent']['data'];
  'api_key.disabled': Schemas['ApiKeyDisabledEvent']['data'];
  'api_key.deleted': Schemas['ApiKeyDeletedEvent']['data'];
};

const NETWORK_OF = { test: 'testnet', live: 'mainnet' } as const;

function sampleReceipt(environment: KeyEnvironment, at: string): Schemas['Receipt'] {
  const leaf = {
    receiptId: randomId('rcpt_', 16),
    customerId: 'customer_001',
    sequence: 1,
    delta: '100.00',
    balanceAfter: '100.00',
    reason: 'initial-deposit',
    referenceId: 'txn-sample-001',
    metadata: { source: 'pacspace-test-event' },
    createdAt: at,
  };
  return {
    ...leaf,
    status: 'recorded',
    leafHash: leafHash(leaf).toString('hex'),
    environment,
    confirmedAt: null,
    checkpointId: null,
    inclusionProof: null,
  };
}

function sampleKey(environment: KeyEnvironment, at: string, active: boolean): Schemas['ApiKey'] {
  return {
    id: randomId('key_', 16),
    name: 'Sample key (test event)',
    environment,
    publicKey: randomId(`pk_${environment}_`, 16),
    permissions: ['balance:read', 'balance:write'],
    active,
    createdAt: at,
    lastUsedAt: null,
  };
}

export function sampleData<T extends WebhookEventType>(type: T, ctx: { tenantId: string; environment: KeyEnvironment; at: number }): DataOf[T] {
  const at = new Date(ctx.at).toISOString();
  const { environment } = ctx;
  const samples: { [K in WebhookEventType]: () => DataOf[K] } = {
    'delta.recorded': () => ({ ...sampleReceipt(environment, at), status: 'recorded', confirmedAt: null }),
    'delta.confirmed': () => ({ ...sampleReceipt(environment, at), status: 'confirmed', confirmedAt: at }),
    'checkpoint.created': () => {
      const receipt = sampleReceipt(environment, at);
      return {
        checkpointId: randomId('chk_', 16),
        customerId: receipt.customerId,
        // A single leaf is its own root.
        proofRoot: receipt.leafHash,
        previousProofRoot: null,
        algorithm: 'rfc6962-sha256-jcs-v1',
        deltaCount: 1,
        firstSequence: 1,
        lastSequence: 1,
        openingBalance: '0.00',
        closingBalance: receipt.balanceAfter,
        environment,
        createdAt: at,
      };
    },
    'environment.activated': () => ({ tenantId: ctx.tenantId, environment: NETWORK_OF[environment], status: 'active', provisionedAt: at }),
    'api_key.created': () => sampleKey(environment, at, true),
    'api_key.regenerated': () => sampleKey(environment, at, true),
    'api_key.enabled': () => ({ ...sampleKey(environment, at, true), active: true }),
    'api_key.disabled': () => ({ ...sampleKey(environment, at, false), active: false }),
    'api_key.deleted': () => sampleKey(environment, at, true),
  };
  return samples[type]() as DataOf[T];
}
