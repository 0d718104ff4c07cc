import type { ColumnType } from 'kysely';
import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: People, roles, credentials of tenants, login links and resellers. */

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
  /** `product`: the product's signInUrl with an assertion; `landlord`: a Landlord session. */
  signs_in_to: Defaulted<'product' | 'landlord'>;
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
