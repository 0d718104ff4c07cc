-- Identity: Landlord signs tenant users in (passwords, one-time password links, cookie
-- sessions, sign-in throttling) and is their OpenID Connect provider (clients, the
-- provider's own records, the tenant each grant was given for) and SAML 2.0 identity
-- provider (service providers, signing certificates by owner, requests seen).
-- Secrets are stored only as hashes (session tokens, password links, client secrets:
-- SHA-256; passwords: argon2id) or sealed (certificate private keys).

-- A user's password, as an argon2id PHC string.
create table user_passwords (
  user_id uuid primary key references users (id) on delete cascade,
  hash text not null check (hash like '$argon2id$%'),
  updated_at timestamptz not null default now()
);

-- One-time links that set or reset a password (spent by a conditional update).
create table password_links (
  id uuid primary key,
  token_hash bytea not null unique,
  user_id uuid not null references users (id) on delete cascade,
  -- The product whose pages the link opens in (its display name, its sign-in).
  product_id uuid not null references products (id) on delete cascade,
  purpose text not null check (purpose in ('set', 'reset')),
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index password_links_user_idx on password_links (user_id);
create index password_links_expires_idx on password_links (expires_at);

-- Cookie sessions of every kind: tenant users signed in to Landlord (kind 'user'),
-- operators of the console (kind 'operator'). The cookie carries a secret whose
-- SHA-256 is token_hash; the id is public (a channel may check it).
create table sessions (
  id uuid primary key,
  kind text not null check (kind in ('user', 'operator')),
  subject_id text not null,
  token_hash bytea not null unique,
  -- The tenant chosen per product: {"<product id>": "<membership id>"}.
  tenants jsonb not null default '{}',
  -- How the subject proved itself: 'password', 'login_link', 'password_link'.
  method text not null,
  ip text,
  user_agent text,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  idle_expires_at timestamptz not null,
  absolute_expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text
);
create index sessions_subject_idx on sessions (kind, subject_id, id);
create index sessions_expires_idx on sessions (absolute_expires_at);

-- Failed sign-ins per account (e-mail) and per address, in a sliding window.
create table sign_in_throttle (
  key text primary key,
  failures integer not null,
  window_started_at timestamptz not null,
  blocked_until timestamptz
);

-- OpenID Connect clients a product registers. A confidential client's secret is
-- stored as its SHA-256; a public client has none and must use PKCE.
create table oidc_clients (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  client_id text not null unique,
  name text not null,
  type text not null check (type in ('confidential', 'public')),
  secret_hash bytea,
  redirect_uris text[] not null,
  post_logout_redirect_uris text[] not null default '{}',
  revoked_at timestamptz,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((type = 'confidential') = (secret_hash is not null))
);
create index oidc_clients_product_idx on oidc_clients (product_id, id);

-- What oidc-provider keeps (codes, tokens, grants, its sessions and interactions),
-- one row per model and id; consumed_at makes a code usable once.
create table oidc_payloads (
  model text not null,
  id text not null,
  payload jsonb not null,
  grant_id text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  primary key (model, id)
);
create index oidc_payloads_grant_idx on oidc_payloads (grant_id) where grant_id is not null;
create index oidc_payloads_uid_idx on oidc_payloads (uid) where uid is not null;
create index oidc_payloads_expires_idx on oidc_payloads (expires_at);

-- The tenant (membership) and Landlord session a grant was given for: the tenant
-- claim of its tokens, and the session whose end ends it.
create table oidc_grant_tenants (
  grant_id text primary key,
  membership_id uuid not null references memberships (id) on delete cascade,
  session_id uuid references sessions (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index oidc_grant_tenants_expires_idx on oidc_grant_tenants (expires_at);

-- SAML signing certificates by owner (a product, a marketplace, …). The newest
-- unretired one signs; retired ones stay in metadata for a grace period.
create table saml_certificates (
  id uuid primary key,
  owner_type text not null check (owner_type ~ '^[a-z][a-z_]{0,30}$'),
  owner_id uuid not null,
  private_key bytea not null,
  certificate text not null,
  sha1_fingerprint text not null,
  sha256_fingerprint text not null,
  not_after timestamptz not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);
create index saml_certificates_owner_idx on saml_certificates (owner_type, owner_id, created_at desc);

-- SAML service providers of a product.
create table saml_providers (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  entity_id text not null,
  acs_url text not null,
  name_id_format text not null,
  -- SAML attribute name → source ("email", "tenant.name", …).
  attribute_mapping jsonb not null default '{}',
  sign_response boolean not null default false,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (product_id, entity_id)
);

-- Every AuthnRequest accepted: a request id seen twice from one SP is a replay.
create table saml_requests (
  id uuid primary key,
  provider_id uuid not null references saml_providers (id) on delete cascade,
  request_id text not null,
  acs_url text not null,
  relay_state text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  consumed_at timestamptz,
  unique (provider_id, request_id)
);
create index saml_requests_expires_idx on saml_requests (expires_at);

-- A login link can end in a Landlord session (for Landlord's own pages, an OIDC or SAML
-- sign-in) instead of the product's signInUrl.
alter table login_links add column signs_in_to text not null default 'product' check (signs_in_to in ('product', 'landlord'));
