-- One-time console links (`landlord console link`): a secret that opens one operator
-- session within 5 minutes, once. Only its SHA-256 is kept; `used_at` makes it single use.
create table console_links (
  id uuid primary key,
  token_hash bytea not null unique,
  -- Whom the session acts as: 'root' (a super admin, as the command line is) or 'key:<api key id>'.
  subject_id text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index console_links_expires_idx on console_links (expires_at);
