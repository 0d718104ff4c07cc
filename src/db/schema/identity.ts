import type { ColumnType } from 'kysely';
import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: identity — passwords, password links, sessions, throttling, OIDC and SAML. */

export interface UserPasswordsTable {
  user_id: string;
  hash: string;
  updated_at: Timestamp;
}

export interface PasswordLinksTable {
  id: string;
  token_hash: Buffer;
  user_id: string;
  product_id: string;
  purpose: 'set' | 'reset';
  expires_at: Timestamp;
  used_at: Date | null;
  created_at: Timestamp;
}

export interface SessionsTable {
  id: string;
  kind: 'user' | 'operator';
  subject_id: string;
  token_hash: Buffer;
  tenants: Json<Record<string, string>>;
  method: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  idle_expires_at: Timestamp;
  absolute_expires_at: Timestamp;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface SignInThrottleTable {
  key: string;
  failures: number;
  window_started_at: Timestamp;
  blocked_until: Date | null;
}

/** The algorithms a client's ID tokens may be signed with; every one is an algorithm of Landlord's key ring. */
export type IdTokenSigningAlg = 'RS256' | 'ES256' | 'EdDSA';

export interface OidcClientsTable {
  id: string;
  product_id: string;
  client_id: string;
  name: string;
  type: 'confidential' | 'public';
  secret_hash: Buffer | null;
  redirect_uris: ColumnType<string[], string[], string[]>;
  post_logout_redirect_uris: ColumnType<string[], string[] | undefined, string[]>;
  id_token_signing_alg: Defaulted<IdTokenSigningAlg>;
  revoked_at: Date | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OidcPayloadsTable {
  model: string;
  id: string;
  payload: Json<Record<string, unknown>>;
  grant_id: string | null;
  uid: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
}

export interface OidcGrantTenantsTable {
  grant_id: string;
  membership_id: string;
  session_id: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface SamlCertificatesTable {
  id: string;
  owner_type: string;
  owner_id: string;
  private_key: Buffer;
  certificate: string;
  sha1_fingerprint: string;
  sha256_fingerprint: string;
  not_after: Timestamp;
  created_at: Timestamp;
  retired_at: Date | null;
}

export interface SamlProvidersTable {
  id: string;
  product_id: string;
  entity_id: string;
  acs_url: string;
  name_id_format: string;
  attribute_mapping: Json<Record<string, string>>;
  sign_response: Defaulted<boolean>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SamlRequestsTable {
  id: string;
  provider_id: string | null;
  /** Set instead of provider_id for a marketplace app's sign-in (migration 0015). */
  marketplace_id: ColumnType<string | null, string | null | undefined, string | null>;
  request_id: string;
  acs_url: string;
  relay_state: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  consumed_at: Date | null;
}
