import { executionAt, type RecurrencePeriod } from '../billing/recurrence.ts';
import type { MarketplaceBill, MarketplaceRecurringBill } from './account-bills.repo.ts';
import type { GroupRecord } from './groups.repo.ts';
import { billUid, groupUid, maestranoTime, recurringBillUid, userUid } from './maestrano-format.ts';

/** A group's Maestrano status, from its tenant's lifecycle status (a deleted group is `terminated`). */
export function groupStatus(tenantStatus: string, deleted: boolean): string {
  if (deleted || tenantStatus === 'deleted') return 'terminated';
  switch (tenantStatus) {
    case 'record_created':
      return 'staged';
    case 'sending_creation_request':
    case 'creating':
    case 'sending_activation_request':
    case 'activating':
      return 'provisioning';
    case 'created_as_active':
    case 'active':
      return 'running';
    case 'sending_deactivation_request':
    case 'deactivating':
      return 'stopping';
    case 'inactive':
      return 'stopped';
    case 'sending_deletion_request':
    case 'deleting':
      return 'terminating';
    default:
      return 'failed';
  }
}

/** `account_group`, in the document's field order. */
export function accountGroup(row: GroupRecord) {
  return {
    object: 'account_group',
    id: groupUid(row.number),
    created_at: maestranoTime(row.created_at),
    updated_at: maestranoTime(row.updated_at),
    has_credit_card: row.has_credit_card,
    status: groupStatus(row.status, row.deleted_at !== null),
    name: row.display_name,
    free_trial_end_at: maestranoTime(row.free_trial_end_at ? new Date(row.free_trial_end_at) : null),
    email: row.email,
    currency: row.currency,
    timezone: row.timezone,
    country: row.country,
    city: row.city,
  };
}

/** A marketplace user as the account API reads it. */
export interface AccountUserRow {
  number: number;
  name: string;
  surname: string;
  email: string;
  country: string | null;
  sso_session: string | null;
  created_at: Date;
  updated_at: Date;
}

/** `account_user`, in the document's field order. */
export function accountUser(row: AccountUserRow) {
  return {
    object: 'account_user',
    id: userUid(row.number),
    name: row.name,
    surname: row.surname,
    email: row.email,
    country: row.country,
    sso_session: row.sso_session,
    created_at: maestranoTime(row.created_at),
    updated_at: maestranoTime(row.updated_at),
  };
}

/**
 * `account_bill`, in the document's field order. Units: Landlord's default of one unit is
 * Maestrano's `null` (no units given), as the document shows it.
 */
export function accountBill(row: MarketplaceBill) {
  const units = Number(row.units);
  return {
    object: 'account_bill',
    id: billUid(row.number),
    group_id: groupUid(row.group_number),
    created_at: maestranoTime(row.created_at),
    updated_at: maestranoTime(row.updated_at),
    price_cents: row.price_cents,
    status: row.status,
    currency: row.currency,
    units: units === 1 ? null : units,
    description: row.description,
    period_started_at: maestranoTime(row.period_started_at),
    period_ended_at: maestranoTime(row.period_ended_at),
  };
}

/**
 * `account_recurring_bill`, in the document's field order. A cancelled one shows the
 * execution that would have been next, as the document's DELETE answer does.
 */
export function accountRecurringBill(row: MarketplaceRecurringBill) {
  const next =
    row.status === 'cancelled'
      ? executionAt(row.start_date, row.period as RecurrencePeriod, row.frequency, row.time_zone, row.executions)
      : row.next_execution_at;
  return {
    object: 'account_recurring_bill',
    id: recurringBillUid(row.number),
    group_id: groupUid(row.group_number),
    created_at: maestranoTime(row.created_at),
    updated_at: maestranoTime(row.updated_at),
    price_cents: row.price_cents,
    status: row.status,
    currency: row.currency,
    description: row.description,
    start_date: maestranoTime(row.start_date),
    period: row.period,
    frequency: row.frequency,
    cycles: row.cycles,
    initial_cents: row.initial_cents,
    last_execution_at: maestranoTime(row.last_execution_at),
    next_execution_at: maestranoTime(next),
    remaining_cycles: row.cycles === null ? null : row.cycles - row.executions,
  };
}
