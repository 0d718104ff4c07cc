import type { Db } from '../db/database.ts';
import { recordEvent } from '../events/events.repo.ts';
import type { AttemptResult } from './deliveries.repo.ts';
import { toEndpointView } from './endpoints.service.ts';
import { DISABLE_AFTER_FAILING_MS } from './retry-schedule.ts';

/**
 * Keeps each endpoint's failure streak from a batch of attempt results: a success
 * ends the streak; a failure starts it (if none runs). An endpoint that answered 410
 * Gone, or whose streak has lasted 5 days, is disabled — and that is itself an event.
 */
export async function settleEndpoints(db: Db, results: AttemptResult[], now: Date): Promise<void> {
  const byEndpoint = new Map<string, AttemptResult[]>();
  for (const result of results) byEndpoint.set(result.endpointId, [...(byEndpoint.get(result.endpointId) ?? []), result]);
  for (const [endpointId, attempts] of byEndpoint) {
    const gone = attempts.some((attempt) => attempt.gone);
    const succeeded = attempts.some((attempt) => attempt.outcome === 'delivered');
    if (succeeded && !gone) {
      await db
        .updateTable('webhook_endpoints')
        .set({ failing_since: null })
        .where('id', '=', endpointId)
        .where('failing_since', 'is not', null)
        .execute();
      continue;
    }
    const firstFailure = attempts.reduce((first, attempt) => (attempt.at < first ? attempt.at : first), now);
    const endpoint = await db
      .updateTable('webhook_endpoints')
      .set((eb) => ({ failing_since: eb.fn.coalesce('failing_since', eb.val(firstFailure)) }))
      .where('id', '=', endpointId)
      .returningAll()
      .executeTakeFirst();
    if (!endpoint?.enabled) continue;
    const failingFor = now.getTime() - (endpoint.failing_since ?? now).getTime();
    const reason = gone
      ? 'the endpoint answered 410 Gone'
      : failingFor >= DISABLE_AFTER_FAILING_MS
        ? 'every delivery failed for 5 days'
        : undefined;
    if (!reason) continue;
    const disabled = await db
      .updateTable('webhook_endpoints')
      .set((eb) => ({ enabled: false, disabled_reason: reason, updated_at: now, version: eb('version', '+', 1) }))
      .where('id', '=', endpointId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordEvent(db, {
      type: 'webhook_endpoint.disabled',
      productId: disabled.product_id,
      data: { endpoint: toEndpointView(disabled, now), reason },
    });
  }
}
