import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** A column the database fills in on insert (a default) but that can be set on update. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** JSON columns: any JSON in, parsed JSON out. */
type Json<T = unknown> = ColumnType<T, string | T, string | T>;

export interface LandlordSecretsTable {
  name: string;
  value: Buffer;
  created_at: Timestamp;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_key: Buffer;
  public_jwk: Json<Record<string, unknown>>;
  created_at: Timestamp;
  retired_at: Date | null;
}

export interface ProductsTable {
  id: string;
  name: string;
  display_name: string;
  api_key_encrypted: Buffer | null;
  api_key_hint: string | null;
  webhooks: Json<Record<string, string>>;
  health_check: Json<Record<string, unknown>>;
  provisioning: Json<Record<string, unknown>>;
  sign_in_url: string | null;
  /** Health probing of the product's tenants is paused (maintenance). */
  health_paused: Defaulted<boolean>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  role: 'super_admin' | 'product_admin';
  product_id: string | null;
  lookup: string;
  secret_hash: Buffer;
  created_at: Timestamp;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface ClientsTable {
  id: string;
  product_id: string;
  client_id: string;
  name: string;
  secret_hash: Buffer;
  secret_expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Timestamp;
  last_used_at: Date | null;
}

export interface PlansTable {
  id: string;
  product_id: string;
  name: string;
  display_name: string;
  description: Defaulted<string>;
  display_order: Defaulted<number>;
  published: Defaulted<boolean>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PlanPricesTable {
  id: string;
  product_id: string;
  plan_id: string;
  name: string;
  cycle: string;
  custom_days: number | null;
  amount_minor: number;
  currency: string;
  published: Defaulted<boolean>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FeaturesTable {
  id: string;
  product_id: string;
  name: string;
  display_name: string;
  description: Defaulted<string>;
  type: string;
  unit: string | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PlanFeaturesTable {
  id: string;
  product_id: string;
  plan_id: string;
  feature_id: string;
  limit_value: number | null;
  unit: string | null;
  reset: Defaulted<string>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SpecificationsTable {
  id: string;
  product_id: string;
  name: string;
  display_name: string;
  description: Defaulted<string>;
  type: string;
  required: Defaulted<boolean>;
  pattern: string | null;
  user_editable: Defaulted<boolean>;
  published: Defaulted<boolean>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TenantsTable {
  id: string;
  product_id: string;
  name: string;
  display_name: string;
  status: Defaulted<string>;
  failed_step: string | null;
  last_stable_status: string | null;
  specifications: Json<Record<string, unknown>>;
  metadata: Json<Record<string, unknown>>;
  plan_price_id: string | null;
  step_id: string | null;
  event_seq: Defaulted<number>;
  report_due_at: Date | null;
  failure_reason: Json | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TenantTimelineTable {
  id: Generated<number>;
  tenant_id: string;
  at: Timestamp;
  kind: 'transition' | 'call' | 'report' | 'health';
  action: string | null;
  from_status: string | null;
  to_status: string | null;
  actor_type: string | null;
  actor_id: string | null;
  detail: Json<Record<string, unknown>>;
}

export interface LandlordNodesTable {
  id: string;
  worker_pool_id: string | null;
  role: string;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
}

export interface EventsTable {
  id: string;
  type: string;
  product_id: string | null;
  tenant_id: string | null;
  tenant_seq: number | null;
  occurred_at: Timestamp;
  data: Json<Record<string, unknown>>;
  position: number | null;
}

export interface WebhookEndpointsTable {
  id: string;
  product_id: string | null;
  url: string;
  description: Defaulted<string>;
  event_types: ColumnType<string[], string[] | undefined, string[]>;
  enabled: Defaulted<boolean>;
  disabled_reason: string | null;
  ordered: Defaulted<boolean>;
  max_concurrency: Defaulted<number>;
  secret_encrypted: Buffer;
  previous_secret_encrypted: Buffer | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  seq: Generated<number>;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  event_position: number;
  tenant_id: string | null;
  status: ColumnType<
    'pending' | 'delivered' | 'failed',
    'pending' | 'delivered' | 'failed' | undefined,
    'pending' | 'delivered' | 'failed'
  >;
  attempts: Defaulted<number>;
  next_attempt_at: Timestamp;
  lease_until: Date | null;
  leased_by: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: Date | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  at: Timestamp;
  request_headers: Json<Record<string, string>>;
  response_status: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  actor_type: string;
  actor_id: string;
  action: string;
  object_type: string;
  object_id: string;
  product_id: string | null;
  before: Json | null;
  after: Json | null;
  request_id: string | null;
}

export interface IdempotencyKeysTable {
  credential: string;
  key: string;
  request_hash: Buffer;
  response_status: number | null;
  response_body: Buffer | null;
  created_at: Timestamp;
}

export interface ProductPermissionsTable {
  product_id: string;
  name: string;
  description: Defaulted<string>;
  created_at: Timestamp;
}

export interface ProductRolesTable {
  id: string;
  product_id: string;
  name: string;
  display_name: string;
  description: Defaulted<string>;
  permissions: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Timestamp;
}

export interface UsersTable {
  id: string;
  email: string;
  full_name: string;
  default_language: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MembershipsTable {
  id: string;
  tenant_id: string;
  product_id: string;
  user_id: string | null;
  login: string;
  roles: ColumnType<string[], string[] | undefined, string[]>;
  permissions: ColumnType<string[], string[] | undefined, string[]>;
  status: 'active' | 'invited';
  invited_email: string | null;
  invited_name: string | null;
  invited_language: string | null;
  invitation_hash: Buffer | null;
  invitation_expires_at: Date | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ConnectionsTable {
  id: string;
  tenant_id: string;
  product_id: string;
  name: string;
  type: string;
  active: Defaulted<boolean>;
  configuration: Json<Record<string, unknown>>;
  permissions: ColumnType<string[], string[] | undefined, string[]>;
  secret_hash: Buffer;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface LoginLinksTable {
  id: string;
  token_hash: Buffer;
  membership_id: string;
  path: string;
  expires_at: Timestamp;
  used_at: Date | null;
  created_at: Timestamp;
}

export interface ResellersTable {
  id: string;
  product_id: string;
  code: string;
  name: string;
  code_prefix: string;
  username: string;
  password_hash: Buffer;
  revoked_at: Date | null;
  created_at: Timestamp;
}

export interface ResellerTenantsTable {
  tenant_id: string;
  reseller_id: string;
  customer_reference: string;
  contact_email: string | null;
  default_language: string | null;
  languages: ColumnType<string[], string[] | undefined, string[]>;
  options: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Timestamp;
}

/** The health of a tenant that was ever live; also the prober's work queue (see 0004_health.sql). */
export interface TenantHealthTable {
  tenant_id: string;
  product_id: string;
  watched: Defaulted<boolean>;
  state: Defaulted<'unknown' | 'healthy' | 'suspect' | 'unavailable'>;
  state_since: Timestamp;
  consecutive_failures: Defaulted<number>;
  outage_id: string | null;
  next_probe_at: Timestamp;
  lease_until: Date | null;
  leased_by: string | null;
  last_probe_at: Date | null;
  last_latency_ms: number | null;
  last_status: number | null;
  last_error: string | null;
  paused: Defaulted<boolean>;
  paused_reason: string | null;
  product_paused: Defaulted<boolean>;
  url_override: string | null;
  acc_hour: Date | null;
  acc_probes: Defaulted<number>;
  acc_failures: Defaulted<number>;
  acc_observed_ms: Defaulted<number>;
  acc_down_ms: Defaulted<number>;
  acc_latency_sum_ms: Defaulted<number>;
  acc_latency_hist: Defaulted<number[]>;
}

/** A tenant's probe totals for one hour. */
export interface TenantProbeHourlyTable {
  tenant_id: string;
  hour: Timestamp;
  probes: number;
  failures: number;
  observed_ms: number;
  down_ms: number;
  latency_sum_ms: number;
  latency_hist: number[];
}

/** A raw probe kept for the retention window (failures and state changes). */
export interface TenantProbesTable {
  tenant_id: string;
  at: Timestamp;
  ok: boolean;
  status: number | null;
  latency_ms: number | null;
  error: string | null;
  state: string;
}

/** Every table Landlord's queries touch, for Kysely's types. */
export interface Database {
  landlord_secrets: LandlordSecretsTable;
  signing_keys: SigningKeysTable;
  products: ProductsTable;
  api_keys: ApiKeysTable;
  clients: ClientsTable;
  plans: PlansTable;
  plan_prices: PlanPricesTable;
  features: FeaturesTable;
  plan_features: PlanFeaturesTable;
  specifications: SpecificationsTable;
  tenants: TenantsTable;
  tenant_timeline: TenantTimelineTable;
  tenant_health: TenantHealthTable;
  tenant_probe_hourly: TenantProbeHourlyTable;
  tenant_probes: TenantProbesTable;
  landlord_nodes: LandlordNodesTable;
  audit_log: AuditLogTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  product_permissions: ProductPermissionsTable;
  product_roles: ProductRolesTable;
  users: UsersTable;
  memberships: MembershipsTable;
  connections: ConnectionsTable;
  login_links: LoginLinksTable;
  resellers: ResellersTable;
  reseller_tenants: ResellerTenantsTable;
}

export type ProductRow = Selectable<ProductsTable>;
export type TenantRow = Selectable<TenantsTable>;
export type NewTenant = Insertable<TenantsTable>;
export type TenantUpdate = Updateable<TenantsTable>;
