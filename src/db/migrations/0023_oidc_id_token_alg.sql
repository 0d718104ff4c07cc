-- The algorithm a client's ID tokens are signed with (OpenID Connect's id_token_signed_response_alg). RS256 is the
-- default every relying party must accept; ES256 and EdDSA sign in a tenth of the time, for relying parties that take them.
alter table oidc_clients
  add column id_token_signing_alg text not null default 'RS256' check (id_token_signing_alg in ('RS256', 'ES256', 'EdDSA'));
