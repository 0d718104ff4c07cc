import type { ColumnType, Generated } from 'kysely';
import type { Json, Timestamp } from './columns.ts';

/** Table types: marketplaces (Maestrano) (migration 0015, ADR 0012). int8 comes back as a JS number (db/database.ts). */

export interface MarketplaceEnvironmentsTable {
  id: string;
  product_id: string;
  name: string;
  key: string;
  secret_hash: Buffer;
  created_at: Timestamp;
}

export interface MarketplacesTable {
  id: string;
  product_id: string;
  environment_id: string;
  name: string;
  nid: string;
  app: Json<Record<string, unknown>>;
  sso: Json<Record<string, string>>;
  webhooks: Json<Record<string, unknown>>;
  connec: Json<Record<string, unknown>>;
  role_mapping: Json<Record<string, string>>;
  api_id: string;
  api_key_hash: Buffer;
  api_key_sealed: Buffer;
  created_at: Timestamp;
}

export interface MarketplaceGroupsTable {
  tenant_id: string;
  marketplace_id: string;
  number: ColumnType<number, number | undefined, number>;
  email: string | null;
  currency: string;
  timezone: string;
  country: string | null;
  city: string | null;
  has_credit_card: ColumnType<boolean, boolean | undefined, boolean>;
  deleted_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MarketplaceUsersTable {
  user_id: string;
  number: Generated<number>;
  name: string;
  surname: string;
  country: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MarketplaceMembersTable {
  membership_id: string;
  role: string;
}

export interface MarketplaceNoticesTable {
  id: string;
  tenant_id: string;
  marketplace_id: string;
  kind: 'group_deleted' | 'user_removed';
  path: string;
  created_at: Timestamp;
}
