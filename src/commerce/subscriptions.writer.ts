/**
 * Stores what `advanceSubscription` worked out, for one subscription or a whole claimed batch, in one statement:
 * periods, invoices (numbered per product without gaps: the counter row is bumped, and so locked, here), their
 * lines, the events in each tenant's sequence, the subscriptions' new state and the tenants' mirrored plan price.
 * `(subscription, number)` on periods, `period_id` on invoices and `source_key` on lines are unique, so
 * applying a step twice fails instead of billing twice.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { fromEpochMs, ms } from '../db/epoch-ms.ts';
import { notifyIfAny } from '../db/listener.ts';
import { EVENTS_CHANNEL } from '../events/events.repo.ts';
import { newId } from '../platform/ids.ts';
import { billedToSnapshot } from './billed-to.ts';
import type { Advance } from './subscription-engine.ts';
import { LIVE_STATUSES } from './subscription-state.ts';

// Above this many subscriptions, the batch's JSON is written one array per turn of the event loop.
const LARGE_BATCH = 50;

// Instants travel as epoch milliseconds (`epoch-ms.ts`): calling toISOString first would cost about what
// JSON.stringify's slow path for a Date does.
const instant = (column: string) => fromEpochMs(sql.ref(column));

/**
 * The JSON of each array. A claimed batch of hundreds is milliseconds of JSON.stringify; for a large batch the
 * event loop turns between the arrays, so requests that arrived meanwhile (API reads during a renewal burst) are
 * served in between rather than behind the whole batch.
 */
async function jsonOf<T extends unknown[][]>(large: boolean, ...arrays: T): Promise<{ [K in keyof T]: string }> {
  const out: string[] = [];
  for (const rows of arrays) {
    if (large) await nextTurn();
    out.push(JSON.stringify(rows));
  }
  return out as { [K in keyof T]: string };
}

/**
 * The payload of a period invoice's events, from the invoice row `n` as stored: the engine's `invoiceView`
 * (`subscription-engine.ts`) with the number and the billing profile snapshot filled in — keep the two alike.
 */
function invoiceEventData(n: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`jsonb_build_object('invoice', jsonb_build_object('id', ${n}.id, 'number', ${n}.number, 'status', ${n}.status,
    'subscriptionId', ${n}.subscription_id, 'periodId', ${n}.period_id, 'total', ${n}.total_minor, 'currency', ${n}.currency,
    'finalizedAt', to_char(${n}.finalized_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'billedTo', ${n}.billed_to))`;
}

/** Advances as the statement takes them: the JSON of each array, and how many subscriptions and events they hold. */
export interface EncodedAdvances {
  periods: string;
  invoices: string;
  subscriptions: string;
  events: string;
  subscriptionCount: number;
  eventCount: number;
}

/**
 * Applies advances computed from rows this transaction holds locked (or just inserted). Throws — and writes
 * nothing — when any subscription changed since it was read or a period, invoice or line exists already.
 */
export async function applyAdvances(db: Db, advances: readonly Advance[], now: Date): Promise<void> {
  const encoded = await encodeAdvances(advances);
  if (encoded) await writeAdvances(db, encoded, now);
}

/**
 * The JSON the statement takes of `advances` (undefined when there are none). A batch's objects are dropped once
 * encoded, so that none is live while its statement runs (most of a batch's life): a scavenge copies, and then
 * promotes, what is live — in the renewals bench about a third of everything a batch made, which later took the
 * old generation's collections to free.
 */
export async function encodeAdvances(advances: readonly Advance[]): Promise<EncodedAdvances | undefined> {
  if (advances.length === 0) return undefined;
  const periods = advances.flatMap((a) =>
    a.periods.map((p) => ({
      id: p.id,
      subscription_id: p.subscriptionId,
      product_id: p.productId,
      tenant_id: p.tenantId,
      number: p.number,
      start_ms: ms(p.startAt),
      end_ms: ms(p.endAt),
      price_id: p.priceId,
      amount_minor: p.amountMinor,
      currency: p.currency,
      trial: p.trial,
    })),
  );
  const invoices = advances.flatMap((a) =>
    a.invoices.map((i, seq) => ({
      id: i.id,
      line_id: i.lineId,
      product_id: i.productId,
      tenant_id: i.tenantId,
      subscription_id: i.subscriptionId,
      period_id: i.periodId,
      currency: i.currency,
      total_minor: i.totalMinor,
      at_ms: ms(i.at),
      seq,
      description: i.description,
      period_start_ms: ms(i.periodStart),
      period_end_ms: ms(i.periodEnd),
    })),
  );
  // An event names its subscription by index `k` (its product and tenant come from there), and an invoice's events
  // travel without their payload: the statement builds it from the invoice row it stores (`invoiceEventData`). The
  // invoice payloads were a third of a batch's JSON, paid for in JSON.stringify, on the socket and in jsonb_in.
  const events = advances.flatMap((a, k) =>
    a.events.map((e, ord) => ({
      id: newId(),
      type: e.type,
      k,
      ord,
      occurred_ms: ms(e.at),
      data: e.invoiceId ? null : e.data,
      invoice_id: e.invoiceId ?? null,
    })),
  );
  const subscriptions = advances.map(({ before, state }, k) => ({
    k,
    id: state.id,
    version: before.version,
    tenant_id: state.tenantId,
    product_id: state.productId,
    status: state.status,
    anchor_ms: ms(state.anchorAt),
    anchor_number: state.anchorNumber,
    trial_notice_sent: state.trialNoticeSent,
    ended_ms: ms(state.endedAt),
    current_period_number: state.currentPeriodNumber,
    current_period_start_ms: ms(state.currentPeriodStart),
    current_period_end_ms: ms(state.currentPeriodEnd),
    next_action_ms: ms(state.nextActionAt),
    plan_price_id: LIVE_STATUSES.includes(state.status) ? state.priceId : null,
  }));
  const [periodsJson, invoicesJson, subscriptionsJson, eventsJson] = await jsonOf(
    advances.length > LARGE_BATCH,
    periods,
    invoices,
    subscriptions,
    events,
  );
  return {
    periods: periodsJson,
    invoices: invoicesJson,
    subscriptions: subscriptionsJson,
    events: eventsJson,
    subscriptionCount: subscriptions.length,
    eventCount: events.length,
  };
}

/** Writes encoded advances in one statement; throws (and writes nothing) as `applyAdvances` says. */
export async function writeAdvances(db: Db, encoded: EncodedAdvances, now: Date): Promise<void> {
  const { periods: periodsJson, invoices: invoicesJson, subscriptions: subscriptionsJson, events: eventsJson } = encoded;
  const result = await sql<{ updated: number; periods: number; lines: number; events: number }>`
    with
    p_in as (select x.*, ${instant('x.start_ms')} as start_at, ${instant('x.end_ms')} as end_at
      from jsonb_to_recordset(${periodsJson}::jsonb) as x(id uuid, subscription_id uuid, product_id uuid,
      tenant_id uuid, number int, start_ms bigint, end_ms bigint, price_id uuid, amount_minor bigint, currency text, trial boolean)),
    periods as (
      insert into subscription_periods (id, subscription_id, product_id, tenant_id, number, start_at, end_at, price_id, amount_minor,
        currency, trial, created_at)
      select id, subscription_id, product_id, tenant_id, number, start_at, end_at, price_id, amount_minor, currency, trial, ${now}::timestamptz
      from p_in returning 1),
    i_in as (select x.*, ${instant('x.at_ms')} as at, ${instant('x.period_start_ms')} as period_start,
      ${instant('x.period_end_ms')} as period_end
      from jsonb_to_recordset(${invoicesJson}::jsonb) as x(id uuid, line_id uuid, product_id uuid, tenant_id uuid,
      subscription_id uuid, period_id uuid, currency text, total_minor bigint, at_ms bigint, seq int, description text,
      period_start_ms bigint, period_end_ms bigint)),
    wanted as (select product_id, count(*)::bigint as k from i_in group by product_id),
    bumped as (
      insert into invoice_counters as c (product_id, last_number) select product_id, k from wanted
      on conflict (product_id) do update set last_number = c.last_number + excluded.last_number
      returning product_id, last_number),
    numbered as (
      select i.*, b.last_number - w.k + row_number() over (partition by i.product_id order by i.at, i.subscription_id, i.seq) as number
      from i_in i join bumped b using (product_id) join wanted w using (product_id)),
    invoiced as (
      insert into invoices (id, product_id, tenant_id, subscription_id, period_id, status, number, currency, total_minor, paid_minor,
        finalized_at, paid_at, created_at, updated_at, billed_to)
      select id, product_id, tenant_id, subscription_id, period_id, case when total_minor = 0 then 'paid' else 'open' end, number,
        currency, total_minor, 0, at, case when total_minor = 0 then at end, at, at, ${billedToSnapshot(sql.ref('numbered.tenant_id'))}
      from numbered returning id, number, billed_to, status, subscription_id, period_id, total_minor, currency, finalized_at),
    lines as (
      insert into invoice_lines (id, invoice_id, product_id, kind, source_key, description, quantity, amount_minor, currency,
        period_start, period_end, created_at)
      select line_id, id, product_id, 'period', 'period:' || period_id, description, 1, total_minor, currency, period_start, period_end, at
      from numbered returning 1),
    s_in as (select x.*, ${instant('x.anchor_ms')} as anchor_at, ${instant('x.ended_ms')} as ended_at,
      ${instant('x.current_period_start_ms')} as current_period_start, ${instant('x.current_period_end_ms')} as current_period_end,
      ${instant('x.next_action_ms')} as next_action_at
      from jsonb_to_recordset(${subscriptionsJson}::jsonb) as x(k int, id uuid, version int, tenant_id uuid, product_id uuid, status text,
      anchor_ms bigint, anchor_number int, trial_notice_sent boolean, ended_ms bigint, current_period_number int,
      current_period_start_ms bigint, current_period_end_ms bigint, next_action_ms bigint, plan_price_id uuid)),
    updated as (
      update subscriptions s set status = x.status, anchor_at = x.anchor_at, anchor_number = x.anchor_number,
        trial_notice_sent = x.trial_notice_sent, ended_at = x.ended_at, current_period_number = x.current_period_number,
        current_period_start = x.current_period_start, current_period_end = x.current_period_end, next_action_at = x.next_action_at,
        renewal_failures = 0, renewal_failed_at = null, renewal_error = null, version = s.version + 1, updated_at = ${now}::timestamptz
      from s_in x where s.id = x.id and s.version = x.version
      returning s.id),
    e_in as (select e.*, ${instant('e.occurred_ms')} as occurred_at, x.product_id, x.tenant_id
      from jsonb_to_recordset(${eventsJson}::jsonb) as e(id uuid, type text, k int, ord int,
      occurred_ms bigint, data jsonb, invoice_id uuid) join s_in x using (k)),
    e_count as (select tenant_id, count(*)::bigint as k from e_in group by tenant_id),
    tenants_seq as (
      update tenants t set event_seq = t.event_seq + c.k, plan_price_id = x.plan_price_id,
        version = t.version + (t.plan_price_id is distinct from x.plan_price_id)::int
      from e_count c join s_in x using (tenant_id) where t.id = c.tenant_id
      returning t.id, t.event_seq, c.k, (t.plan_price_id is distinct from x.plan_price_id) as plan_changed),
    recorded as (
      insert into events (id, type, product_id, tenant_id, tenant_seq, occurred_at, data)
      select e.id, e.type, e.product_id, e.tenant_id, s.event_seq - s.k + row_number() over (partition by e.tenant_id order by e.ord),
        e.occurred_at,
        -- An invoice's events carry it as stored by this statement, with its number and whom it bills (null, and so
        -- refused, should the invoice be missing).
        case when e.invoice_id is null then e.data when n.id is not null then ${invoiceEventData(sql.ref('n'))} end
      from e_in e join tenants_seq s on s.id = e.tenant_id left join invoiced n on n.id = e.invoice_id
      returning 1)
    select (select count(*) from updated)::int as updated, (select count(*) from periods)::int as periods,
      (select count(*) from lines)::int as lines, (select count(*) from recorded)::int as events,
      ${notifyIfAny(EVENTS_CHANNEL, 'recorded')} as notified`.execute(db);
  const counts = result.rows[0];
  if (!counts || counts.updated !== encoded.subscriptionCount || counts.events !== encoded.eventCount) {
    throw new Error(`subscriptions changed while they were advanced (${counts?.updated ?? 0} of ${encoded.subscriptionCount} updated)`);
  }
}
