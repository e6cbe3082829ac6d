// The handler registry: operationId → handler, by resource module. Operations of the
// contract with no handler here are answered by Prism's mock (see app.ts).
import type { Handlers } from './handler.ts';
import { accountHandlers } from './accounts.ts';
import { apiKeyHandlers } from './api-keys.ts';
import { billingHandlers } from './billing.ts';
import { environmentHandlers } from './environments.ts';
import { ledgerHandlers } from './ledger.ts';
import { webhookHandlers } from './webhooks.ts';

export const apiHandlers: Handlers = {
  ...accountHandlers,
  ...apiKeyHandlers,
  ...environmentHandlers,
  ...ledgerHandlers,
  ...billingHandlers,
  ...webhookHandlers,
};
