-- A deletion asked for while a tenant is live (a reseller's DELETE) deactivates it first;
-- this remembers to start the deletion once the tenant is inactive.
alter table tenants add column delete_when_inactive boolean not null default false;
