-- People and access: the permissions a product defines and its role templates, users
-- and their memberships in tenants (with invitations), API connections (tenant-scoped
-- credentials), one-time login links, and resellers with the tenants they created.
-- Every secret (connection secret, invitation token, login-link token, reseller
-- password) is stored only as its SHA-256.

-- The permissions a product defines ("tenant_management", "user_management", …):
-- anything granted must be one of these.
create table product_permissions (
  product_id uuid not null references products (id) on delete cascade,
  name text not null check (name ~ '^[a-z][a-z0-9_.:-]{0,62}$'),
  description text not null default '',
  created_at timestamptz not null default now(),
  primary key (product_id, name)
);

-- Role templates every tenant of the product shares. The built-ins (owner, admin,
-- member) are not rows: their permission sets follow the catalogue.
create table product_roles (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  name text not null check (name ~ '^[a-z][a-z0-9_-]{0,62}$' and name not in ('owner', 'admin', 'member')),
  display_name text not null,
  description text not null default '',
  permissions text[] not null default '{}',
  created_at timestamptz not null default now(),
  unique (product_id, name)
);

-- One person, whatever tenants they belong to; e-mail is unique ignoring case.
create table users (
  id uuid primary key,
  email text not null,
  full_name text not null,
  default_language text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_email_idx on users (lower(email));

-- A user in a tenant. While an invitation is pending the row has no user yet, only
-- the invited e-mail and the hash of the invitation token.
create table memberships (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  product_id uuid not null references products (id) on delete cascade,
  user_id uuid references users (id) on delete restrict,
  login text not null,
  roles text[] not null default '{}',
  permissions text[] not null default '{}',
  status text not null check (status in ('active', 'invited')),
  invited_email text,
  invited_name text,
  invited_language text,
  invitation_hash bytea unique,
  invitation_expires_at timestamptz,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((status = 'active') = (user_id is not null)),
  check ((status = 'invited') = (invitation_hash is not null and invited_email is not null))
);
-- Logins are unique within a tenant ignoring case; a page of a tenant's users follows id.
create unique index memberships_login_idx on memberships (tenant_id, lower(login));
create index memberships_tenant_idx on memberships (tenant_id, id);
create index memberships_user_idx on memberships (user_id) where user_id is not null;
-- One membership per person per tenant, invited or not.
create unique index memberships_user_tenant_idx on memberships (tenant_id, user_id) where user_id is not null;
create unique index memberships_invited_idx on memberships (tenant_id, lower(invited_email)) where status = 'invited';

-- Credentials programs use to reach a tenant (Sharespine's API connection). The id is
-- public (32 hex characters); the secret is compared with secret_hash.
create table connections (
  id text primary key check (id ~ '^[0-9a-f]{32}$'),
  tenant_id uuid not null references tenants (id) on delete cascade,
  product_id uuid not null references products (id) on delete cascade,
  name text not null,
  type text not null,
  active boolean not null default true,
  configuration jsonb not null default '{}',
  permissions text[] not null default '{}',
  secret_hash bytea not null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index connections_tenant_idx on connections (tenant_id, id);

-- One-time login links: consumed by an update that only succeeds once.
create table login_links (
  id uuid primary key,
  token_hash bytea not null unique,
  membership_id uuid not null references memberships (id) on delete cascade,
  path text not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index login_links_membership_idx on login_links (membership_id);
create index login_links_expires_idx on login_links (expires_at);

-- Channels that onboard tenants of one product and see only their own.
create table resellers (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  code text not null unique check (code ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name text not null,
  -- Code names of its tenants start with this (a–z, 0–9 only).
  code_prefix text not null check (code_prefix ~ '^[a-z0-9]{0,20}$'),
  username text not null unique,
  password_hash bytea not null,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index resellers_product_idx on resellers (product_id, id);

-- What a reseller said about each tenant it created (Sharespine's tenant fields).
create table reseller_tenants (
  tenant_id uuid primary key references tenants (id) on delete cascade,
  reseller_id uuid not null references resellers (id) on delete cascade,
  customer_reference text not null,
  contact_email text,
  default_language text,
  languages text[] not null default '{}',
  options text[] not null default '{}',
  created_at timestamptz not null default now()
);
create index reseller_tenants_reseller_idx on reseller_tenants (reseller_id, tenant_id);
