import { html } from '../../http/html.ts';
import { createLoginLink } from '../../login-links/login-links.service.ts';
import { getVisibleTenant } from '../../tenants/tenants.service.ts';
import type { ConsoleRouter } from '../router.ts';

/** People of a tenant: issue a one-time login link for a user (shown once, on the answer page). */
export function registerTenantPeopleActions(router: ConsoleRouter): void {
  router.action('/console/tenants/:tenant/people/:login/login-link', async (context) => {
    const { db, clock, keyRing, config, baseUrl } = context.services;
    const tenant = await getVisibleTenant(db, context.principal, context.params.tenant ?? '');
    const login = context.params.login ?? '';
    const link = await db
      .transaction()
      .execute((tx) =>
        createLoginLink(tx, { clock, keyRing, publicUrl: config.publicUrl }, context.caller, tenant.id, login, {}, baseUrl()),
      );
    return {
      title: 'Login link',
      section: 'tenants',
      body: html`<h1>Login link for ${login}</h1><p><a href="/console/tenants/${tenant.id}?tab=people">Back to ${tenant.name}</a></p>
<div class="secret"><p>Shown once. It signs <strong>${login}</strong> in to ${tenant.product_name} once, until ${link.expires}.</p>
<p class="mono">${link.loginUrl}</p></div>`,
    };
  });
}
