import { createClient, getClient, revokeClient, rotateClientSecret } from '../../access/clients.service.ts';
import { AppError } from '../../errors/app-error.ts';
import { html } from '../../http/html.ts';
import type { ConsoleRouter } from '../router.ts';
import { requireConfirmation } from '../router.ts';

const shown = (productId: string, title: string, clientId: string, secret: string) => ({
  title,
  section: 'products',
  body: html`<h1>${title}</h1><div class="secret"><p>Client id <span class="mono">${clientId}</span>. The secret, shown once — store it now:</p><p class="mono">${secret}</p></div>
<p><a href="/console/products/${productId}">Back to the product</a></p>`,
});

/** A product's clients: create (secret shown once), rotate (new secret shown once), revoke (typing its name). */
export function registerClientActions(router: ConsoleRouter): void {
  router.action('/console/products/:product/clients', async (context) => {
    const { db, clock } = context.services;
    const name = context.form.name ?? '';
    if (!name || name.length > 200)
      throw new AppError('request.invalid', { message: 'Give the client a name (at most 200 characters)', parameter: 'name' });
    const product = context.params.product ?? '';
    const created = await db.transaction().execute((tx) => createClient(tx, clock, context.caller, product, { name }));
    return shown(created.productId, 'Client created', created.clientId, created.clientSecret);
  });

  router.action('/console/products/:product/clients/:client/rotate', async (context) => {
    const { db } = context.services;
    const rotated = await db
      .transaction()
      .execute((tx) => rotateClientSecret(tx, context.caller, context.params.product ?? '', context.params.client ?? '', {}));
    return shown(rotated.productId, 'Secret rotated', rotated.clientId, rotated.clientSecret);
  });

  router.action('/console/products/:product/clients/:client/revoke', async (context) => {
    const { db, clock } = context.services;
    const product = context.params.product ?? '';
    const client = context.params.client ?? '';
    await db.transaction().execute(async (tx) => {
      requireConfirmation(context, (await getClient(tx, context.caller, product, client)).name);
      await revokeClient(tx, clock, context.caller, product, client);
    });
    return { redirect: `/console/products/${product}`, notice: 'revoked' };
  });
}
