// The PacSpace SDK: `PacSpace` (Balance API), `PacSpaceDashboard` (Dashboard API),
// `verifyProofRoot` (public verification), `verifyWebhook`, the typed errors and the contract's
// types. Runtime-neutral: nothing in this entry's import graph needs Node (Web fetch, Web
// Crypto, TextEncoder only; sdk/runtime-neutral.test.ts checks it), so the same build runs on
// Node, Bun, Deno, browsers and edge runtimes. Node-only extras are in sdk/node.ts.
export {
  PacSpace,
  verifyProofRoot,
  type BalanceApi,
  type CheckpointsApi,
  type CompareOptions,
  type CompareViews,
  type EmitOptions,
  type ListOptions,
  type PacSpaceOptions,
  type ReceiptsApi,
  type RequestOptions,
  type VerifyProofRootOptions,
} from './client.ts';
export {
  PacSpaceDashboard,
  type ApiKeyCreateInput,
  type DashboardApiKeysApi,
  type DashboardAuthApi,
  type DashboardBillingApi,
  type DashboardEnvironmentsApi,
  type DashboardOptions,
  type DashboardWebhooksApi,
  type WebhookCreateInput,
} from './dashboard.ts';
export {
  ApiConnectionError,
  AuthenticationError,
  ConfigurationError,
  ConflictError,
  NotFoundError,
  PacSpaceError,
  PermissionError,
  PlanLimitExceededError,
  RateLimitError,
  ServiceUnavailableError,
  TimeoutError,
  ValidationError,
  WebhookVerificationError,
  type ClientErrorCode,
  type WebhookFailure,
} from './errors.ts';
export { DEFAULT_SANDBOX_URL, PRODUCTION_URL, parseApiKey, type KeyEnvironment } from './keys.ts';
export type { FetchLike, RetryEvent } from './transport.ts';
export { verifyWebhook, type VerifyWebhookOptions, type WebhookBody, type WebhookEvent, type WebhookHeaders } from './webhooks.ts';
// The generated contract types, whole, for typing anything the named aliases below do not cover.
export type { components, operations, paths, webhooks } from '../generated/openapi.d.ts';
export type {
  Amount,
  ApiKey,
  ApiKeyCreated,
  ApiKeyPermission,
  BillingSummary,
  Checkpoint,
  CompareReport,
  CurrentUser,
  DerivedBalance,
  Environment,
  InclusionProof,
  Metadata,
  Problem,
  ProblemCode,
  Receipt,
  ReceiptPage,
  User,
  ValidationViolation,
  Verification,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointCreated,
  WebhookEventType,
} from '../generated/openapi.d.ts';
