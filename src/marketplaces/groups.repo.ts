import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** A marketplace group with its tenant's name, status and dates and its live subscription's trial end. */
export function groupQuery(db: Db) {
  return db
    .selectFrom('marketplace_groups as g')
    .innerJoin('tenants', 'tenants.id', 'g.tenant_id')
    .innerJoin('marketplaces', 'marketplaces.id', 'g.marketplace_id')
    .select([
      'g.tenant_id',
      'g.marketplace_id',
      'g.number',
      'g.email',
      'g.currency',
      'g.timezone',
      'g.country',
      'g.city',
      'g.has_credit_card',
      'g.deleted_at',
      'g.created_at',
      'g.updated_at',
      'tenants.name as tenant_name',
      'tenants.display_name',
      'tenants.status',
      'tenants.product_id',
      'marketplaces.name as marketplace_name',
      'marketplaces.webhooks',
      sql<Date | null>`(select s.trial_end_at from subscriptions s where s.tenant_id = g.tenant_id
        and s.status in ('pending', 'trialing', 'active', 'past_due') limit 1)`.as('free_trial_end_at'),
    ]);
}

/** A group row as `groupQuery` reads it. */
export type GroupRecord = Awaited<ReturnType<ReturnType<typeof groupQuery>['executeTakeFirstOrThrow']>>;

/** A member of a marketplace group with their Maestrano profile and role. */
export function groupMemberQuery(db: Db) {
  return db
    .selectFrom('memberships')
    .innerJoin('marketplace_groups as g', 'g.tenant_id', 'memberships.tenant_id')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .innerJoin('marketplace_users as mu', 'mu.user_id', 'users.id')
    .leftJoin('marketplace_members as mm', 'mm.membership_id', 'memberships.id')
    .select([
      'memberships.id as membership_id',
      'memberships.login',
      'memberships.roles',
      'g.number as group_number',
      'g.tenant_id',
      'g.marketplace_id',
      'users.id as user_id',
      'users.email',
      'mu.number as user_number',
      'mu.name',
      'mu.surname',
      'mu.country',
      'mu.created_at',
      'mu.updated_at',
      'mm.role',
    ]);
}
