/**
 * The rules of a plan change, as data: its direction (upgrade when the new price costs
 * more per day), when it takes effect by default, and who may make it take effect now.
 */

/** The kinds of change, each confirmed by the product's backend at its own URL. */
export const CHANGE_KINDS = ['upgrade', 'downgrade', 'reset'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** When a change takes effect: as soon as the backend confirms it, or at the current period's end. */
export const CHANGE_TIMINGS = ['now', 'period_end'] as const;
export type ChangeTiming = (typeof CHANGE_TIMINGS)[number];

/** A change's statuses: `scheduled` (until the period end) → `calling` → `awaiting_report` (callback mode) → `applied` | `failed`. */
export const CHANGE_STATUSES = ['scheduled', 'calling', 'awaiting_report', 'applied', 'failed'] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

/** What the rules need of a price. */
export interface PriceTerms {
  cycle: string;
  customDays: number | null;
  amountMinor: number;
}

// A cycle's mean length in 1/4800 days, so that a month (146,097 / 4,800 days: the Gregorian mean) is a whole number.
const PARTS_PER_DAY = 4800n;
const CYCLE_PARTS: Record<string, bigint> = { day: 4800n, week: 33_600n, month: 146_097n, year: 1_753_164n };

/** A price's mean cycle length in 1/4800 days, or null for a price paid once (`unlimited`). */
export function cycleParts(price: Pick<PriceTerms, 'cycle' | 'customDays'>): bigint | null {
  if (price.cycle === 'custom') return BigInt(price.customDays ?? 1) * PARTS_PER_DAY;
  return CYCLE_PARTS[price.cycle] ?? null;
}

/** Whether two prices renew on the same cycle. */
export function sameCycle(a: Pick<PriceTerms, 'cycle' | 'customDays'>, b: Pick<PriceTerms, 'cycle' | 'customDays'>): boolean {
  return a.cycle === b.cycle && (a.cycle !== 'custom' || a.customDays === b.customDays);
}

/**
 * `upgrade` when `to` costs more per day than `from` (exactly, in integers), otherwise
 * `downgrade` (an equal price per day on another cycle is a downgrade: it waits for the
 * period's end). Both prices must renew (not `unlimited`).
 */
export function directionOf(from: PriceTerms, to: PriceTerms): 'upgrade' | 'downgrade' {
  const fromParts = cycleParts(from);
  const toParts = cycleParts(to);
  if (fromParts === null || toParts === null) throw new Error('a price paid once has no price per day');
  // to / toParts > from / fromParts
  return BigInt(to.amountMinor) * fromParts > BigInt(from.amountMinor) * toParts ? 'upgrade' : 'downgrade';
}

/** Why a requested timing is refused. */
export type TimingRefusal = 'clients_cannot_force_immediate_downgrade';

/**
 * When a change takes effect: a reset at once; an upgrade on the same cycle at once;
 * a downgrade or a change of cycle at the period's end — unless the caller asks
 * otherwise, except that a product's client may not make a downgrade immediate.
 */
export function timingOf(
  kind: ChangeKind,
  cycleChanged: boolean,
  requested: ChangeTiming | undefined,
  caller: 'operator' | 'client',
): ChangeTiming | TimingRefusal {
  if (kind === 'reset') return 'now';
  const byDefault: ChangeTiming = kind === 'upgrade' && !cycleChanged ? 'now' : 'period_end';
  if (requested === undefined || requested === byDefault) return byDefault;
  if (requested === 'now' && kind === 'downgrade' && caller === 'client') return 'clients_cannot_force_immediate_downgrade';
  return requested;
}
