import type { Db } from '../db/database.ts';
import type { SubscriptionSpan } from './usage-context.ts';

/**
 * A subscription's plan history as usage applies it (ADR 0010): the plan in force at an
 * instant is the one its applied changes left it on (an upgrade or downgrade takes effect
 * at its `effective_at` on the commerce clock: the period's end, or the moment an
 * immediate change was applied), and a confirmed `reset` restarts every usage window at
 * its `effective_at`. Each subscription becomes one span per stretch between changes, and
 * keeps every anchor its periods were counted from (`anchorHistory`).
 */

/** An applied change of a subscription, with the plans of its prices (timestamps as Dates or JSON strings). */
export interface AppliedChangeRow {
  subscription_id: string;
  kind: string;
  effective_at: Date | string;
  from_plan_id: string;
  from_plan_name: string;
  to_plan_id: string;
  to_plan_name: string;
  /** The anchor the change moved the subscription's periods to (a new cycle), or null: it kept the anchor. */
  anchor_at: Date | string | null;
}

/** The applied changes of the subscriptions given, oldest first. */
export async function loadAppliedChanges(db: Db, subscriptionIds: readonly string[]): Promise<AppliedChangeRow[]> {
  if (subscriptionIds.length === 0) return [];
  return db
    .selectFrom('subscription_changes as c')
    .innerJoin('plan_prices as fp', 'fp.id', 'c.from_price_id')
    .innerJoin('plans as fpl', 'fpl.id', 'fp.plan_id')
    .innerJoin('plan_prices as tp', 'tp.id', 'c.to_price_id')
    .innerJoin('plans as tpl', 'tpl.id', 'tp.plan_id')
    .select([
      'c.subscription_id',
      'c.kind',
      'c.effective_at',
      'fp.plan_id as from_plan_id',
      'fpl.name as from_plan_name',
      'tp.plan_id as to_plan_id',
      'tpl.name as to_plan_name',
      'c.anchor_at',
    ])
    .where('c.subscription_id', 'in', [...subscriptionIds])
    .where('c.status', '=', 'applied')
    .orderBy('c.effective_at')
    .orderBy('c.id')
    .execute();
}

/**
 * Splits a subscription's span at its applied changes: before the first change it is on
 * the first change's "from" plan, after each on its "to" plan (the last one is the
 * subscription's own plan). Each piece knows the latest reset at or before it and the
 * next one after it, which cut the usage windows.
 */
export function splitByChanges(span: SubscriptionSpan, changes: readonly AppliedChangeRow[]): SubscriptionSpan[] {
  const mine = changes
    .filter((change) => change.subscription_id === span.id)
    .map((change) => ({ ...change, at: new Date(change.effective_at) }))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  if (mine.length === 0) return [span];
  const resets = mine.filter((change) => change.kind === 'reset').map((change) => change.at);
  const lastResetAtOrBefore = (at: number) => resets.filter((reset) => reset.getTime() <= at).at(-1) ?? null;
  const nextResetAfter = (at: number) => resets.find((reset) => reset.getTime() > at) ?? null;
  // Before the first plan move the subscription was on that move's "from" plan (a reset keeps the plan).
  const firstMove = mine.find((change) => change.kind !== 'reset');
  const pieces: SubscriptionSpan[] = [];
  let from = span.start;
  let plan = firstMove ? { id: firstMove.from_plan_id, name: firstMove.from_plan_name } : { id: span.planId, name: span.planName };
  const push = (until: Date | null) => {
    if (until !== null && until.getTime() <= from.getTime()) return;
    pieces.push({
      ...span,
      planId: plan.id,
      planName: plan.name,
      segment: { start: from, end: until },
      resetAt: lastResetAtOrBefore(from.getTime()),
      nextResetAt: nextResetAfter(from.getTime()),
    });
  };
  for (const change of mine) {
    push(change.at);
    if (change.at.getTime() > from.getTime()) from = change.at;
    if (change.kind !== 'reset') plan = { id: change.to_plan_id, name: change.to_plan_name };
  }
  push(null);
  return pieces;
}

/** What `anchorHistory` reads of a subscription row. */
export interface AnchoredSubscription {
  start: Date;
  /** The trial's end (the anchor moves there when the first paid period opens), if it had a trial. */
  trialEnd: Date | null;
  /** The anchor stored on the row: the latest one. */
  anchor: Date;
}

/**
 * Every anchor a subscription's periods were counted from, oldest first; each is in force
 * from its own instant until the next one (a window counted from one anchor ends where the
 * next begins, so usage already counted never moves to another window). The first is the
 * start; a trial's end moves it there; a confirmed change to another cycle moves it to the
 * end of the period it applied in (`subscription_changes.anchor_at`); the row holds the
 * latest. While a trial runs, its end decides: an anchor that a change recorded during the
 * trial, or that the row holds before the trial ended, was overtaken by the trial's end
 * (a trial can be extended or ended early after such a change).
 */
export function anchorHistory(subscription: AnchoredSubscription, changes: readonly AppliedChangeRow[]): Date[] {
  const { start, trialEnd } = subscription;
  const candidates: Date[] = [start];
  if (trialEnd && trialEnd.getTime() > start.getTime()) candidates.push(trialEnd);
  const afterTrial = (at: Date) => trialEnd === null || at.getTime() >= trialEnd.getTime();
  for (const change of changes) {
    if (change.anchor_at !== null && afterTrial(new Date(change.effective_at))) candidates.push(new Date(change.anchor_at));
  }
  if (afterTrial(subscription.anchor)) candidates.push(subscription.anchor);
  const times = [...new Set(candidates.map((at) => at.getTime()))].filter((at) => at >= start.getTime()).sort((a, b) => a - b);
  return times.map((at) => new Date(at));
}
