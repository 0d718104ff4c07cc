import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: the Roomle tenant API (0016_roomle.sql). */

export interface RoomleProductsTable {
  product_id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RoomlePackagesTable {
  product_id: string;
  plan_id: string;
  package: string;
}

export interface RoomleTenantsTable {
  tenant_id: string;
  product_id: string;
  languages: Defaulted<string[]>;
  default_language: string | null;
  show_language_switch: Defaulted<boolean>;
  authentication_required: Defaulted<boolean>;
  visibility: Defaulted<number>;
  privacy_url: string | null;
  allow_registration: Defaulted<boolean>;
  branded: Defaulted<boolean>;
  skin: Json | null;
  configuration: string | null;
  modules: Defaulted<string[]>;
  webhook_endpoint_id: string | null;
  api_connection_id: string | null;
  api_key_sealed: Buffer | null;
  version: Defaulted<number>;
  updated_at: Timestamp;
}

export interface BillingProfilesTable {
  tenant_id: string;
  product_id: string;
  name: string;
  company: string | null;
  email: string;
  address: Json<Record<string, unknown>>;
  vat_id: string | null;
  currency: string | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PaymentConnectionsTable {
  id: string;
  tenant_id: string;
  product_id: string;
  provider: string;
  store: string;
  customer_reference: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PromoCodesTable {
  id: string;
  product_id: string;
  code: string;
  price_id: string;
  duration_days: number;
  active_from: Date | null;
  active_until: Date | null;
  max_redemptions: number | null;
  redemptions: Defaulted<number>;
  active: Defaulted<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PromoRedemptionsTable {
  id: string;
  promo_code_id: string;
  tenant_id: string;
  subscription_id: string;
  redeemed_at: Timestamp;
}
