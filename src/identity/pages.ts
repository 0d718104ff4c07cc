import { CSRF_FIELD } from '../http/csrf.ts';
import { cspHash, html, type PagePolicy, SafeHtml } from '../http/html.ts';
import type { SignInTenant } from './tenant-context.ts';

/** The one stylesheet of Landlord's pages, inline and allowed by its hash. */
const STYLE = `body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f;line-height:1.5}
h1{font-size:1.4rem;margin:0 0 .25rem}p.product{color:#555;margin:0 0 1.5rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:4px}
input:focus,button:focus,a:focus{outline:3px solid #1a5fd0;outline-offset:2px}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:4px;background:#1a5fd0;color:#fff;cursor:pointer}
button.link{background:none;color:#1a5fd0;padding:0;margin:0;text-decoration:underline}
.error{border-left:4px solid #b00020;background:#fdecee;padding:.5rem .75rem}.notice{border-left:4px solid #1a7f37;background:#e9f7ec;padding:.5rem .75rem}
ul.choices{list-style:none;padding:0}ul.choices li{margin:.5rem 0}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.35rem;border-bottom:1px solid #ddd;font-size:.9rem}
h2{font-size:1.1rem}label.inline{display:inline;font-weight:400}.sr{position:absolute;left:-9999px}.hint{margin:.25rem 0 0;color:#555;font-size:.9rem}`;

/** The CSP sources every identity page needs. */
export const PAGE_POLICY: PagePolicy = { styleHashes: [cspHash(STYLE)] };

/** The page around every identity screen: language, title, the product's display name. */
export function layout(title: string, productName: string | undefined, body: SafeHtml): SafeHtml {
  return html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}${productName ? ` – ${productName}` : ''}</title><style>${new SafeHtml(STYLE)}</style></head>
<body><main>${body}</main></body></html>`;
}

const csrfField = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
const alert = (text: string | undefined) => (text ? html`<p class="error" role="alert" id="form-error">${text}</p>` : '');
const notice = (text: string | undefined) => (text ? html`<p class="notice" role="status">${text}</p>` : '');

/** The sign-in form of a product: e-mail and password. */
export function signInPage(input: {
  productName: string;
  action: string;
  csrf: string;
  email?: string;
  error?: string;
  notice?: string;
  forgotUrl: string;
}): SafeHtml {
  const described = input.error ? 'form-error' : undefined;
  return layout(
    'Sign in',
    input.productName,
    html`<h1>Sign in</h1><p class="product">to ${input.productName}</p>${alert(input.error)}${notice(input.notice)}
<form method="post" action="${input.action}" novalidate>${csrfField(input.csrf)}
<label for="email">E-mail address</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${input.email ?? ''}"${described ? html` aria-describedby="${described}" aria-invalid="true"` : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described ? html` aria-describedby="${described}" aria-invalid="true"` : ''}>
<button type="submit">Sign in</button></form>
<p><a href="${input.forgotUrl}">Forgot your password?</a></p>`,
  );
}

/** The choice of tenant for a user who belongs to several of the product's tenants. */
export function tenantChooserPage(input: { productName: string; action: string; csrf: string; tenants: SignInTenant[] }): SafeHtml {
  return layout(
    'Choose an account',
    input.productName,
    html`<h1>Choose an account</h1><p class="product">You belong to several accounts of ${input.productName}.</p>
<form method="post" action="${input.action}">${csrfField(input.csrf)}
<fieldset><legend>Sign in to</legend><ul class="choices">${input.tenants.map(
      (tenant, index) =>
        html`<li><input type="radio" id="t${index}" name="tenant" value="${tenant.tenantName}"${index === 0 ? ' checked' : ''}>
<label class="inline" for="t${index}">${tenant.tenantDisplayName} (${tenant.tenantName}) as ${tenant.login}</label></li>`,
    )}</ul></fieldset><button type="submit">Continue</button></form>`,
  );
}

/** One row of the session list. */
export interface SessionRow {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  method: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/** The signed-in user's page: who they are, their sessions (each revocable) and sign-out. */
export function accountPage(input: {
  productName: string;
  email: string;
  tenant: string | undefined;
  sessions: SessionRow[];
  csrf: string;
  revokeAction: (id: string) => string;
  signOutAction: string;
  notice?: string;
}): SafeHtml {
  return layout(
    'Your sessions',
    input.productName,
    html`<h1>Signed in</h1><p class="product">as ${input.email}${input.tenant ? html` in ${input.tenant}` : ''}, ${input.productName}</p>${notice(input.notice)}
<h2>Your sessions</h2>
<table><thead><tr><th scope="col">Started</th><th scope="col">Last used</th><th scope="col">Browser</th><th scope="col"><span class="sr">Action</span></th></tr></thead><tbody>
${input.sessions.map(
  (session) => html`<tr><td>${session.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC</td>
<td>${session.lastSeenAt.toISOString().slice(0, 16).replace('T', ' ')} UTC</td><td>${session.userAgent ?? 'unknown'}${session.current ? ' (this one)' : ''}</td>
<td><form method="post" action="${input.revokeAction(session.id)}">${csrfField(input.csrf)}<button class="link" type="submit">${session.current ? 'Sign out' : 'Revoke'}</button></form></td></tr>`,
)}</tbody></table>
<form method="post" action="${input.signOutAction}">${csrfField(input.csrf)}<button type="submit">Sign out</button></form>`,
  );
}

/** The form that sets a new password with a one-time link. */
export function passwordPage(input: { productName: string; action: string; csrf: string; error?: string; email: string }): SafeHtml {
  return layout(
    'Choose a password',
    input.productName,
    html`<h1>Choose a password</h1><p class="product">for ${input.email}, ${input.productName}</p>${alert(input.error)}
<form method="post" action="${input.action}">${csrfField(input.csrf)}
<input type="hidden" name="username" autocomplete="username" value="${input.email}">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="password-hint${input.error ? ' form-error' : ''}">
<p id="password-hint" class="hint">At least 10 characters.</p>
<button type="submit">Save password</button></form>`,
  );
}

/** The form that asks for a password reset link. */
export function forgotPage(input: { productName: string; action: string; csrf: string; sent: boolean }): SafeHtml {
  return layout(
    'Reset your password',
    input.productName,
    input.sent
      ? html`<h1>Check your inbox</h1><p class="notice" role="status">If the address belongs to an account of ${input.productName}, a link to choose a new password is on its way.</p>`
      : html`<h1>Reset your password</h1><p class="product">${input.productName}</p>
<form method="post" action="${input.action}">${csrfField(input.csrf)}
<label for="email">E-mail address</label><input id="email" name="email" type="email" autocomplete="username" required>
<button type="submit">Send a link</button></form>`,
  );
}

/** A plain page that says what happened, with nothing from the request in it but what is escaped. */
export function messagePage(title: string, text: string, productName?: string): SafeHtml {
  return layout(title, productName, html`<h1>${title}</h1><p>${text}</p>`);
}
