import type { CallKind } from '../backend-calls/call-kind.ts';
import { enqueueCall, firstAttempt } from '../backend-calls/call-kind.ts';
import type { Db } from '../db/database.ts';
import { newId } from '../platform/ids.ts';

/** The kinds of notice a marketplace owes the app. */
export type NoticeKind = 'group_deleted' | 'user_removed';

const callName = (kind: NoticeKind) => `marketplace.${kind}`;

/**
 * A DELETE notice to the app: `DELETE {app.host}{path}` with HTTP Basic `api.id:api.key`, as
 * Maestrano's hub sends it. The notice row (written with its cause) says what to send; the
 * call machinery makes it on the tenant's queue, retries it with backoff and records every
 * attempt in the tenant's timeline. It asks for nothing back, so it is always still wanted.
 */
function noticeCall(kind: NoticeKind): CallKind {
  return {
    name: callName(kind),
    // Unused: `prepare` names its own target.
    url: 'deletion',
    prepare: async (db, _context, job, deps) => {
      const notice = await db
        .selectFrom('marketplace_notices')
        .innerJoin('marketplaces', 'marketplaces.id', 'marketplace_notices.marketplace_id')
        .select(['marketplace_notices.path', 'marketplaces.app', 'marketplaces.api_id', 'marketplaces.api_key_sealed'])
        .where('marketplace_notices.id', '=', job.stepId)
        .executeTakeFirst();
      if (!notice) return undefined;
      const host = String(notice.app.host).replace(/\/+$/, '');
      const basic = Buffer.from(`${notice.api_id}:${deps.box.open(notice.api_key_sealed)}`).toString('base64');
      return {
        body: {},
        target: {
          method: 'DELETE',
          url: `${host}${notice.path}`,
          headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
        },
      };
    },
    stillWanted: () => true,
  };
}

/** The marketplace notices' call kinds (entries of `callKinds()`). */
export const MARKETPLACE_CALL_KINDS: CallKind[] = [noticeCall('group_deleted'), noticeCall('user_removed')];

/** Records a notice and enqueues its call, in `tx`: the transaction of the change it tells the app about. */
export async function oweNotice(
  tx: Db,
  notice: { tenantId: string; marketplaceId: string; kind: NoticeKind; path: string; at: Date },
): Promise<string> {
  const id = newId();
  await tx
    .insertInto('marketplace_notices')
    .values({
      id,
      tenant_id: notice.tenantId,
      marketplace_id: notice.marketplaceId,
      kind: notice.kind,
      path: notice.path,
      created_at: notice.at,
    })
    .execute();
  await enqueueCall(tx, firstAttempt(callName(notice.kind), notice.tenantId, id));
  return id;
}

/** A webhook path with its `:name` placeholders replaced (URL-encoded). */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/:([a-z_]+)/g, (whole, name: string) => (name in values ? encodeURIComponent(values[name] ?? '') : whole));
}
