import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: Products, their credentials, and what they sell. */

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
  trial_days: Defaulted<number>;
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
  enforcement: Defaulted<string>;
  thresholds: Defaulted<number[]>;
  overage_unit_price_minor: number | null;
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
