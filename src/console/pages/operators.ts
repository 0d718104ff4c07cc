import { createApiKey, listApiKeys, revokeApiKey } from '../../access/api-keys.service.ts';
import { requireRole } from '../../access/principal.ts';
import { insertAuditRecord } from '../../audit/audit.repo.ts';
import { AppError } from '../../errors/app-error.ts';
import { html } from '../../http/html.ts';
import { isUuid } from '../../platform/ids.ts';
import { listProducts } from '../../products/products.service.ts';
import { findSessionById, revokeSession } from '../../sessions/session-store.ts';
import { badge, confirmForm, csrfField, empty, postButton, when } from '../layout.ts';
import { type ConsoleRouter, requireConfirmation } from '../router.ts';

/** Whom a console session acts as, in words. */
function subjectName(subject: string, keys: { id: string; name: string }[]): string {
  if (subject === 'root') return 'console link (super admin)';
  if (subject.startsWith('admin:')) return 'LANDLORD_ADMIN_KEY';
  const key = keys.find((candidate) => `key:${candidate.id}` === subject);
  return key ? `key “${key.name}”` : subject;
}

/** Operators and keys (super admins): every operator key, create one (shown once), revoke one (typing its name). */
export function registerOperatorPages(router: ConsoleRouter): void {
  router.page('/console/operators', async (context) => {
    requireRole(context.principal, 'super_admin');
    const { db } = context.services;
    const now = context.services.clock.now();
    const [keys, products, sessions] = await Promise.all([
      listApiKeys(db),
      listProducts(db, context.principal, undefined, 200),
      db
        .selectFrom('sessions')
        .select(['id', 'subject_id', 'method', 'ip', 'created_at', 'last_seen_at'])
        .where('kind', '=', 'operator')
        .where('revoked_at', 'is', null)
        .where('idle_expires_at', '>', now)
        .where('absolute_expires_at', '>', now)
        .orderBy('id', 'desc')
        .limit(200)
        .execute(),
    ]);
    const productName = new Map(products.items.map((product) => [product.id, product.name]));
    const body = html`<h1>Operators and keys</h1>${
      keys.length
        ? html`<table><thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Product</th><th scope="col">Prefix</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead><tbody>${keys.map(
            (key) =>
              html`<tr><td>${key.name}</td><td>${key.role}</td><td>${key.productId ? (productName.get(key.productId) ?? key.productId) : 'all'}</td><td class="mono">${key.prefix}</td><td>${when(key.lastUsedAt)}</td>
<td>${key.revokedAt ? badge('revoked', 'neutral') : html`${badge('active', 'good')}<details><summary>Revoke</summary>${confirmForm(`/console/operators/${key.id}/revoke`, key.name, 'Revoke', context.csrf)}</details>`}</td></tr>`,
          )}</tbody></table>`
        : empty('No operator keys yet (LANDLORD_ADMIN_KEY or a console link got you here).')
    }
<h2>Console sessions</h2>${
      sessions.length
        ? html`<table><thead><tr><th scope="col">Who</th><th scope="col">How</th><th scope="col">Since</th><th scope="col">Last seen</th><th scope="col">From</th><th scope="col">End</th></tr></thead><tbody>${sessions.map(
            (session) =>
              html`<tr><td>${subjectName(session.subject_id, keys)}${session.id === context.session.id ? ' (you)' : ''}</td><td>${session.method}</td><td>${when(session.created_at)}</td><td>${when(session.last_seen_at)}</td><td>${session.ip ?? '—'}</td>
<td>${postButton(`/console/operators/sessions/${session.id}/revoke`, 'End session', context.csrf, { secondary: true })}</td></tr>`,
          )}</tbody></table>`
        : empty('No console sessions.')
    }
<h2>Create a key</h2><form method="post" action="/console/operators">${csrfField(context.csrf)}
<p><label for="name">Name</label><input id="name" name="name" required maxlength="200"></p>
<p><label for="role">Role</label><select id="role" name="role"><option value="super_admin">super_admin (everything)</option><option value="product_admin">product_admin (one product)</option></select></p>
<p><label for="product">Product (product_admin only)</label><select id="product" name="product"><option value="">—</option>${products.items.map(
      (product) => html`<option value="${product.name}">${product.display_name}</option>`,
    )}</select></p><p><button type="submit">Create key</button></p></form>`;
    return { title: 'Operators and keys', section: 'operators', body };
  });

  router.action('/console/operators', async (context) => {
    requireRole(context.principal, 'super_admin');
    const name = context.form.name ?? '';
    if (!name || name.length > 200)
      throw new AppError('request.invalid', { message: 'Give the key a name (at most 200 characters)', parameter: 'name' });
    const role = context.form.role === 'product_admin' ? 'product_admin' : 'super_admin';
    const created = await context.services.db.transaction().execute((tx) =>
      createApiKey(tx, context.caller.actor, {
        name,
        role,
        ...(role === 'product_admin' && context.form.product ? { product: context.form.product } : {}),
      }),
    );
    return {
      title: 'Key created',
      section: 'operators',
      body: html`<h1>Key “${name}” created</h1><div class="secret"><p>The key, shown once — store it now:</p><p class="mono">${created.key}</p></div><p><a href="/console/operators">Back to the keys</a></p>`,
    };
  });

  router.action('/console/operators/sessions/:id/revoke', async (context) => {
    requireRole(context.principal, 'super_admin');
    const { db, clock } = context.services;
    const id = context.params.id ?? '';
    const session = isUuid(id) ? await findSessionById(db, id) : undefined;
    if (session?.kind !== 'operator') throw new AppError('session.not_found', { parameter: 'id' });
    if (await revokeSession(db, clock, id, 'ended from the console')) {
      await insertAuditRecord(db, context.caller.actor, {
        action: 'console.session_revoke',
        objectType: 'session',
        objectId: id,
        productId: null,
      });
    }
    return { redirect: '/console/operators', notice: 'revoked' };
  });

  router.action('/console/operators/:id/revoke', async (context) => {
    requireRole(context.principal, 'super_admin');
    const { db, clock } = context.services;
    const id = context.params.id ?? '';
    const key = isUuid(id) ? (await listApiKeys(db)).find((candidate) => candidate.id === id) : undefined;
    if (!key) throw new AppError('api_key.not_found', { parameter: 'id' });
    requireConfirmation(context, key.name);
    await db.transaction().execute((tx) => revokeApiKey(tx, context.caller.actor, key.id, clock.now()));
    return { redirect: '/console/operators', notice: 'revoked' };
  });
}
