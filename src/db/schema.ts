import type { Insertable, Selectable, Updateable } from 'kysely';
import type {
  BillsTable,
  PaymentEventsTable,
  PaymentProvidersTable,
  RecurringBillsTable,
  SubscriptionChangesTable,
} from './schema/billing.ts';
import type {
  ApiKeysTable,
  ClientsTable,
  FeaturesTable,
  PlanFeaturesTable,
  PlanPricesTable,
  PlansTable,
  ProductsTable,
  SpecificationsTable,
} from './schema/catalogue.ts';
import type {
  InvoiceCountersTable,
  InvoiceLinesTable,
  InvoicesTable,
  PaymentsTable,
  ProductBillingTable,
  SubscriptionPeriodsTable,
  SubscriptionsTable,
} from './schema/commerce.ts';
import type { ConsoleLinksTable } from './schema/console.ts';
import type {
  EventFeedTable,
  EventsPendingTable,
  EventsTable,
  WebhookAttemptsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from './schema/events.ts';
import type {
  OidcClientsTable,
  OidcGrantTenantsTable,
  OidcPayloadsTable,
  PasswordLinksTable,
  SamlCertificatesTable,
  SamlProvidersTable,
  SamlRequestsTable,
  SessionsTable,
  SignInThrottleTable,
  UserPasswordsTable,
} from './schema/identity.ts';
import type {
  MarketplaceEnvironmentsTable,
  MarketplaceGroupsTable,
  MarketplaceMembersTable,
  MarketplaceNoticesTable,
  MarketplacesTable,
  MarketplaceUsersTable,
} from './schema/marketplaces.ts';
import type {
  ConnectionsTable,
  LoginLinksTable,
  MembershipsTable,
  ProductPermissionsTable,
  ProductRolesTable,
  ResellersTable,
  ResellerTenantsTable,
  UsersTable,
} from './schema/people.ts';
import type { AuditLogTable, IdempotencyKeysTable, LandlordNodesTable, LandlordSecretsTable, SigningKeysTable } from './schema/platform.ts';
import type {
  BillingProfilesTable,
  PaymentConnectionsTable,
  PromoCodesTable,
  PromoRedemptionsTable,
  RoomlePackagesTable,
  RoomleProductsTable,
  RoomleTenantsTable,
} from './schema/roomle.ts';
import type {
  BackendCallAttemptsTable,
  TenantHealthTable,
  TenantProbeHourlyTable,
  TenantProbesTable,
  TenantsTable,
  TenantTimelineTable,
} from './schema/tenants.ts';
import type { UsageAdjustmentsTable, UsageCrossingsTable, UsageEventsTable, UsageTotalsTable } from './schema/usage.ts';

// calls and billing
export type * from './schema/billing.ts';
export type * from './schema/catalogue.ts';
export type * from './schema/commerce.ts';
export type * from './schema/console.ts';
export type * from './schema/events.ts';
export type * from './schema/identity.ts';
export type * from './schema/marketplaces.ts';
export type * from './schema/people.ts';
export type * from './schema/platform.ts';
export type * from './schema/roomle.ts';
export type * from './schema/tenants.ts';
export type * from './schema/usage.ts';

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
  event_feed: EventFeedTable;
  events_pending: EventsPendingTable;
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
  // identity
  user_passwords: UserPasswordsTable;
  password_links: PasswordLinksTable;
  sessions: SessionsTable;
  sign_in_throttle: SignInThrottleTable;
  oidc_clients: OidcClientsTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_grant_tenants: OidcGrantTenantsTable;
  saml_certificates: SamlCertificatesTable;
  saml_providers: SamlProvidersTable;
  saml_requests: SamlRequestsTable;
  // commerce
  product_billing: ProductBillingTable;
  subscriptions: SubscriptionsTable;
  subscription_periods: SubscriptionPeriodsTable;
  invoice_counters: InvoiceCountersTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  payments: PaymentsTable;
  // calls and billing
  backend_call_attempts: BackendCallAttemptsTable;
  subscription_changes: SubscriptionChangesTable;
  // marketplaces (maestrano)
  marketplace_environments: MarketplaceEnvironmentsTable;
  marketplaces: MarketplacesTable;
  marketplace_groups: MarketplaceGroupsTable;
  marketplace_users: MarketplaceUsersTable;
  marketplace_members: MarketplaceMembersTable;
  marketplace_notices: MarketplaceNoticesTable;
  recurring_bills: RecurringBillsTable;
  bills: BillsTable;
  // usage
  usage_events: UsageEventsTable;
  usage_totals: UsageTotalsTable;
  usage_adjustments: UsageAdjustmentsTable;
  usage_crossings: UsageCrossingsTable;
  // console
  console_links: ConsoleLinksTable;
  // roomle
  roomle_products: RoomleProductsTable;
  roomle_packages: RoomlePackagesTable;
  roomle_tenants: RoomleTenantsTable;
  billing_profiles: BillingProfilesTable;
  payment_connections: PaymentConnectionsTable;
  promo_codes: PromoCodesTable;
  promo_redemptions: PromoRedemptionsTable;
  // payments
  payment_providers: PaymentProvidersTable;
  payment_events: PaymentEventsTable;
}

export type ProductRow = Selectable<ProductsTable>;
export type TenantRow = Selectable<TenantsTable>;
export type NewTenant = Insertable<TenantsTable>;
export type TenantUpdate = Updateable<TenantsTable>;
