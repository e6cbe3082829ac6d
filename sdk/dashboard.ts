// `PacSpaceDashboard`: the Dashboard API client for account automation (sign-up, sessions,
// API keys, environments, webhooks, billing). It authenticates like a browser: `auth.login`
// stores the httpOnly session cookies from `Set-Cookie` in memory and sends them back; every
// unsafe method also sends `X-Pacspace-CSRF: 1`. Same transport, retry rules and typed errors
// as `PacSpace`; cookie values never appear in its output.
import createClient from 'openapi-fetch';
import type {
  AcceptedMessage,
  ApiKey,
  ApiKeyCreated,
  ApiKeyCreateRequest,
  ApiKeyPage,
  ApiKeyRegenerated,
  ApiKeyToggled,
  BillingSummary,
  ContractEnvironment,
  ContractNetwork,
  CurrentUser,
  DeletedResponse,
  EmailVerification,
  Environment,
  EnvironmentStatusReport,
  Message,
  paths,
  ProvisionResult,
  RegisterRequest,
  RequestAccessRequest,
  SessionInfo,
  User,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookEndpoint,
  WebhookEndpointCreated,
  WebhookEndpointCreateRequest,
  WebhookEndpointPage,
  WebhookEndpointUpdateRequest,
  WebhookEventType,
  WebhookSecretRotated,
  WebhookTestEventQueued,
} from '../generated/openapi.d.ts';
import { PacSpace, transportFrom, type ListOptions, type PacSpaceOptions, type RequestOptions } from './client.ts';
import { CookieJar } from './cookies.ts';
import { ConfigurationError, noRedaction } from './errors.ts';
import { inspectCustom, quoted, type InspectOptions } from './inspect.ts';
import { normalizeBaseUrl, PRODUCTION_URL } from './keys.ts';
import { paginate } from './pagination.ts';
import { createTransport, unwrap } from './transport.ts';

export type DashboardOptions = RequestOptions & {
  /** The Dashboard API (default `https://app.pacspace.io`). */
  baseUrl?: string;
};

// The generated request types mark defaulted members as required (openapi-typescript's
// defaultNonNullable); the API does not, so the SDK's inputs make them optional again.
type WithDefaults<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
export type ApiKeyCreateInput = WithDefaults<ApiKeyCreateRequest, 'environment' | 'permissions'>;
export type WebhookCreateInput = WithDefaults<WebhookEndpointCreateRequest, 'environment'>;

export interface DashboardAuthApi {
  /** Step 1 of the quick start: ask for an account (public). */
  requestAccess(request: RequestAccessRequest): Promise<AcceptedMessage>;
  /** Creates the account with the approved access link's token (public). */
  register(request: RegisterRequest): Promise<User>;
  /** Confirms the email address with the token from the verification e-mail (public). */
  verifyEmail(token: string): Promise<EmailVerification>;
  resendVerificationEmail(email: string): Promise<AcceptedMessage>;
  requestPasswordReset(email: string): Promise<AcceptedMessage>;
  resetPassword(token: string, password: string): Promise<Message>;
  /** Starts a session: keeps its cookies in this client. Throws `AuthenticationError` on bad credentials, `RateLimitError` when throttled. */
  login(email: string, password: string): Promise<User>;
  /** Rotates the session cookies with the refresh cookie (never retried: a replayed refresh revokes the session). */
  refresh(): Promise<SessionInfo>;
  /** Ends the session; the cookies are dropped even if the API call fails. */
  logout(): Promise<Message>;
  /** The signed-in user. */
  me(): Promise<CurrentUser>;
}

export interface DashboardApiKeysApi {
  list(options?: ListOptions): Promise<ApiKeyPage>;
  all(options?: { limit?: number }): AsyncGenerator<ApiKey, void, undefined>;
  /** Creates a key; `fullKey` and `secretKey` are in this answer only. Environment defaults to `test`. */
  create(request: ApiKeyCreateInput): Promise<ApiKeyCreated>;
  get(id: string): Promise<ApiKey>;
  delete(id: string): Promise<DeletedResponse>;
  /** Emergency rotation: same id and public key, new secret; the old secret stops working at once. */
  regenerate(id: string): Promise<ApiKeyRegenerated>;
  /** Disables an active key or enables a disabled one. */
  toggle(id: string): Promise<ApiKeyToggled>;
}

export interface DashboardEnvironmentsApi {
  /** Sandbox and Production with their status and `apiBaseUrl`. */
  list(): Promise<Environment[]>;
  contracts(): Promise<ContractEnvironment[]>;
  provision(environment: ContractNetwork): Promise<ProvisionResult>;
  status(tenantId: string): Promise<EnvironmentStatusReport>;
}

export interface DashboardWebhooksApi {
  list(options?: ListOptions): Promise<WebhookEndpointPage>;
  all(options?: { limit?: number }): AsyncGenerator<WebhookEndpoint, void, undefined>;
  /** Creates an endpoint; its signing `secret` is in this answer only. */
  create(request: WebhookCreateInput): Promise<WebhookEndpointCreated>;
  get(id: string): Promise<WebhookEndpoint>;
  update(id: string, changes: WebhookEndpointUpdateRequest): Promise<WebhookEndpoint>;
  delete(id: string): Promise<DeletedResponse>;
  /** New signing secret (shown once); the previous one keeps signing for `overlapSeconds` (default 86400). */
  rotateSecret(id: string, options?: { overlapSeconds?: number }): Promise<WebhookSecretRotated>;
  /** Queues a signed sample event (default `delta.recorded`). */
  sendTest(id: string, options?: { eventType?: WebhookEventType }): Promise<WebhookTestEventQueued>;
  deliveries(id: string, options?: ListOptions): Promise<WebhookDeliveryPage>;
  allDeliveries(id: string, options?: { limit?: number }): AsyncGenerator<WebhookDelivery, void, undefined>;
}

export interface DashboardBillingApi {
  /** Plan, current period and verified-delta usage per environment. */
  get(): Promise<BillingSummary>;
}

const pageQuery = (o: ListOptions = {}) => ({
  ...(o.page === undefined ? {} : { page: o.page }),
  ...(o.limit === undefined ? {} : { limit: o.limit }),
});

export class PacSpaceDashboard {
  readonly baseUrl: string;
  readonly auth: DashboardAuthApi;
  readonly apiKeys: DashboardApiKeysApi;
  readonly environments: DashboardEnvironmentsApi;
  readonly webhooks: DashboardWebhooksApi;
  readonly billing: DashboardBillingApi;
  readonly #jar = new CookieJar();
  readonly #options: DashboardOptions;

  constructor(options: DashboardOptions = {}) {
    if (!options || typeof options !== 'object') {
      throw new ConfigurationError({ code: 'invalid_configuration', detail: 'PacSpaceDashboard: options must be an object.' });
    }
    this.#options = options;
    this.baseUrl = normalizeBaseUrl('baseUrl', options.baseUrl ?? PRODUCTION_URL);
    const redact = noRedaction;
    const fetch = createTransport({ ...transportFrom(options, redact), cookies: this.#jar, csrf: true });
    const api = createClient<paths>({ baseUrl: this.baseUrl, fetch });
    const jar = this.#jar;

    this.auth = {
      requestAccess: (body) => unwrap(api.POST('/dashboard/auth/request-access', { body }), redact),
      register: (body) => unwrap(api.POST('/dashboard/auth/register', { body }), redact),
      verifyEmail: (token) => unwrap(api.GET('/dashboard/auth/verify', { params: { query: { token } } }), redact),
      resendVerificationEmail: (email) => unwrap(api.POST('/dashboard/auth/resend-verification-email', { body: { email } }), redact),
      requestPasswordReset: (email) => unwrap(api.POST('/dashboard/auth/request-password-reset', { body: { email } }), redact),
      resetPassword: (token, password) => unwrap(api.POST('/dashboard/auth/reset-password', { body: { token, password } }), redact),
      login: (email, password) => unwrap(api.POST('/dashboard/auth/login', { body: { email, password } }), redact),
      refresh: () => unwrap(api.POST('/dashboard/auth/refresh'), redact),
      logout: async () => {
        try {
          return await unwrap(api.POST('/dashboard/auth/logout'), redact);
        } finally {
          jar.clear();
        }
      },
      me: () => unwrap(api.GET('/dashboard/auth/me'), redact),
    };

    const listKeys = (o?: ListOptions) => unwrap(api.GET('/dashboard/api-keys', { params: { query: pageQuery(o) } }), redact);
    this.apiKeys = {
      list: listKeys,
      all: (o = {}) => paginate((page) => listKeys({ page, limit: o.limit ?? 100 })),
      create: (body) => unwrap(api.POST('/dashboard/api-keys', { body: body as ApiKeyCreateRequest }), redact),
      get: (id) => unwrap(api.GET('/dashboard/api-keys/{id}', { params: { path: { id } } }), redact),
      delete: (id) => unwrap(api.DELETE('/dashboard/api-keys/{id}', { params: { path: { id } } }), redact),
      regenerate: (id) => unwrap(api.POST('/dashboard/api-keys/{id}/regenerate', { params: { path: { id } } }), redact),
      toggle: (id) => unwrap(api.POST('/dashboard/api-keys/{id}/toggle', { params: { path: { id } } }), redact),
    };

    this.environments = {
      list: () => unwrap(api.GET('/dashboard/environments'), redact),
      contracts: () => unwrap(api.GET('/dashboard/contracts'), redact),
      provision: (environment) => unwrap(api.POST('/dashboard/contracts/provision', { body: { environment } }), redact),
      status: (tenantId) => unwrap(api.GET('/dashboard/contracts/{tenantId}/status', { params: { path: { tenantId } } }), redact),
    };

    const listWebhooks = (o?: ListOptions) => unwrap(api.GET('/dashboard/webhooks', { params: { query: pageQuery(o) } }), redact);
    const deliveries = (id: string, o?: ListOptions) =>
      unwrap(api.GET('/dashboard/webhooks/{id}/deliveries', { params: { path: { id }, query: pageQuery(o) } }), redact);
    this.webhooks = {
      list: listWebhooks,
      all: (o = {}) => paginate((page) => listWebhooks({ page, limit: o.limit ?? 100 })),
      create: (body) => unwrap(api.POST('/dashboard/webhooks', { body: body as WebhookEndpointCreateRequest }), redact),
      get: (id) => unwrap(api.GET('/dashboard/webhooks/{id}', { params: { path: { id } } }), redact),
      update: (id, body) => unwrap(api.PATCH('/dashboard/webhooks/{id}', { params: { path: { id } }, body }), redact),
      delete: (id) => unwrap(api.DELETE('/dashboard/webhooks/{id}', { params: { path: { id } } }), redact),
      rotateSecret: (id, o = {}) =>
        unwrap(
          api.POST('/dashboard/webhooks/{id}/rotate-secret', {
            params: { path: { id } },
            ...(o.overlapSeconds === undefined ? {} : { body: { overlapSeconds: o.overlapSeconds } }),
          }),
          redact,
        ),
      sendTest: (id, o = {}) =>
        unwrap(
          api.POST('/dashboard/webhooks/{id}/test', {
            params: { path: { id } },
            ...(o.eventType === undefined ? {} : { body: { eventType: o.eventType } }),
          }),
          redact,
        ),
      deliveries,
      allDeliveries: (id, o = {}) => paginate((page) => deliveries(id, { page, limit: o.limit ?? 100 })),
    };

    this.billing = { get: () => unwrap(api.GET('/dashboard/billing'), redact) };
  }

  /** Whether this client holds session cookies (it says nothing about whether the API still accepts them). */
  get hasSession(): boolean {
    return this.#jar.has('pacspace_access') || this.#jar.has('pacspace_refresh');
  }

  /**
   * A `PacSpace` Balance API client for a key, pointed at the environment URLs this account's
   * `GET /dashboard/environments` lists (so a local or custom Sandbox URL needs no configuration).
   * Uses this client's request options unless overridden.
   */
  async balanceClient(apiKey: string, options: Omit<PacSpaceOptions, 'apiKey'> = {}): Promise<PacSpace> {
    const environments = await this.environments.list();
    const url = (network: ContractNetwork) => environments.find((e) => e.environment === network)?.apiBaseUrl;
    const { baseUrl: _dashboardUrl, ...requestOptions } = this.#options;
    const sandboxUrl = url('testnet');
    const productionUrl = url('mainnet');
    return new PacSpace({
      ...requestOptions,
      ...(sandboxUrl === undefined ? {} : { sandboxUrl }),
      ...(productionUrl === undefined ? {} : { productionUrl }),
      ...options,
      apiKey,
    });
  }

  toJSON() {
    return { baseUrl: this.baseUrl, hasSession: this.hasSession };
  }

  [inspectCustom](_depth?: number, options?: InspectOptions) {
    return `PacSpaceDashboard { baseUrl: ${quoted(this.baseUrl, options)}, session: ${this.hasSession ? '[cookies redacted]' : 'none'} }`;
  }
}
