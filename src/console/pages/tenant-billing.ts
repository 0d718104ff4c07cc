import { BillCreate, RecurringBillCreate } from '../../billing/bills.schemas.ts';
import { type BillCreateBody, createBill, listBills } from '../../billing/bills.service.ts';
import { billView, recurringBillView } from '../../billing/bills.view.ts';
import { createRecurringBill, listRecurringBills, type RecurringBillCreateBody } from '../../billing/recurring-bills.service.ts';
import { localDate } from '../../commerce/calendar.ts';
import { listTenantInvoices } from '../../commerce/invoices.service.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { decodeCursor, UUID_KEY } from '../../http/pagination.ts';
import type { TenantRecord } from '../../tenants/tenants.repo.ts';
import { formBody } from '../form-body.ts';
import { badge, csrfField, empty, pager, when } from '../layout.ts';
import type { ConsoleContext, ConsoleRouter } from '../router.ts';
import { money } from './money.ts';

const SHOWN = 20;

/** The query keys of the tab's two paged lists: bills (`cursor`, as every console list) and recurring bills. */
const BILLS_CURSOR = 'cursor';
const RECURRING_CURSOR = 'recurring_cursor';

/** A recurring bill's schedule in words: "every 12 months, 3 times, next 2027-01-31" (dates on its billing calendar). */
export function scheduleInWords(bill: ReturnType<typeof recurringBillView>): string {
  const every =
    bill.period === 'semimonth'
      ? 'on the 1st and the 15th of each month'
      : bill.frequency === 1
        ? `every ${bill.period}`
        : `every ${bill.frequency} ${bill.period}s`;
  const times = bill.cycles === null ? 'until cancelled' : bill.cycles === 1 ? 'once' : `${bill.cycles} times`;
  const next =
    bill.nextExecutionAt && ['submitted', 'active'].includes(bill.status)
      ? `next ${localDate(bill.timeZone, new Date(bill.nextExecutionAt))}`
      : bill.status;
  return `${every}, ${times}, ${next}`;
}

/** The invoices-and-bills tab: the tenant's invoices, bills and recurring bills, and forms to add bills. */
export async function renderBilling(context: ConsoleContext, tenant: TenantRecord): Promise<SafeHtml> {
  const { db } = context.services;
  // Newest first, SHOWN at a time; a cursor this list did not hand out is a 400, as in /v1.
  const billsFrom = decodeCursor(context.query[BILLS_CURSOR], UUID_KEY);
  const recurringFrom = decodeCursor(context.query[RECURRING_CURSOR], UUID_KEY);
  const [invoices, bills, recurring] = await Promise.all([
    listTenantInvoices(db, context.principal, tenant.id, { limit: SHOWN }),
    listBills(db, context.principal, tenant.id, { beforeId: billsFrom, limit: SHOWN }),
    listRecurringBills(db, context.principal, tenant.id, { beforeId: recurringFrom, limit: SHOWN }),
  ]);
  const base = `/console/tenants/${tenant.id}`;
  // Each list pages on its own; the other list's position is kept.
  const positions = { tab: 'billing', [BILLS_CURSOR]: context.query[BILLS_CURSOR], [RECURRING_CURSOR]: context.query[RECURRING_CURSOR] };
  return html`<h2>Invoices</h2>${
    invoices.items.length
      ? html`<table><thead><tr><th scope="col">Invoice</th><th scope="col">Status</th><th scope="col" class="num">Total</th><th scope="col" class="num">Due</th><th scope="col">Created</th></tr></thead><tbody>${invoices.items.map(
          (row) =>
            html`<tr><td><a href="/console/invoices/${row.id}">${row.number ? `No. ${row.number}` : 'Draft'}</a></td><td>${badge(row.status, row.status === 'paid' ? 'good' : row.status === 'open' ? 'warn' : 'neutral')}</td><td class="num">${money(row.total_minor, row.currency)}</td><td class="num">${money(Math.max(0, row.total_minor - row.paid_minor), row.currency)}</td><td>${when(row.created_at)}</td></tr>`,
        )}</tbody></table>${invoices.nextCursor ? html`<p><a href="/console/invoices?tenant=${tenant.id}">All its invoices</a></p>` : ''}`
      : empty('No invoices yet.')
  }
<h2>Bills</h2>${
    bills.items.length
      ? html`<table><thead><tr><th scope="col">Description</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Goes on an invoice</th></tr></thead><tbody>${bills.items.map(
          (row) => {
            const bill = billView(row);
            return html`<tr><td>${bill.description}</td><td class="num">${money(Math.round(bill.priceCents * bill.units), bill.currency)}</td><td>${bill.status}</td><td>${bill.invoiceId ? html`<a href="/console/invoices/${bill.invoiceId}">invoiced</a>` : when(bill.invoiceAt)}</td></tr>`;
          },
        )}</tbody></table>${pager(base, positions, bills.nextCursor, { key: BILLS_CURSOR, label: 'Older bills' })}`
      : empty(billsFrom ? 'No older bills.' : 'No bills yet.')
  }
<h2>Recurring bills</h2>${
    recurring.items.length
      ? html`<table><thead><tr><th scope="col">Description</th><th scope="col" class="num">Each time</th><th scope="col">Schedule</th><th scope="col">Done</th></tr></thead><tbody>${recurring.items.map(
          (row) => {
            const bill = recurringBillView(row);
            return html`<tr><td>${bill.description}</td><td class="num">${money(bill.priceCents, bill.currency)}</td><td class="schedule">${scheduleInWords(bill)}</td><td>${bill.executions}</td></tr>`;
          },
        )}</tbody></table>${pager(base, positions, recurring.nextCursor, { key: RECURRING_CURSOR, label: 'Older recurring bills' })}`
      : empty(recurringFrom ? 'No older recurring bills.' : 'No recurring bills.')
  }
<h2>Add a bill</h2><form class="row" method="post" action="${base}/bills">${csrfField(context.csrf)}
<div><label for="bill-description">Description</label><input id="bill-description" name="description" required maxlength="1000"></div>
<div><label for="bill-price">Price (minor units)</label><input id="bill-price" name="priceCents" inputmode="numeric" required></div>
<div><label for="bill-units">Units</label><input id="bill-units" name="units" inputmode="decimal" placeholder="1"></div>
<div><label for="bill-currency">Currency</label><input id="bill-currency" name="currency" maxlength="3" placeholder="the subscription's"></div>
<button type="submit">Add the bill</button></form>
<h2>Add a recurring bill</h2><form class="row" method="post" action="${base}/recurring-bills">${csrfField(context.csrf)}
<div><label for="rb-description">Description</label><input id="rb-description" name="description" required maxlength="1000"></div>
<div><label for="rb-price">Price each time (minor units)</label><input id="rb-price" name="priceCents" inputmode="numeric" required></div>
<div><label for="rb-period">Period</label><select id="rb-period" name="period"><option value="month">month</option><option value="year">year</option><option value="week">week</option><option value="day">day</option><option value="semimonth">1st and 15th</option></select></div>
<div><label for="rb-frequency">Every</label><input id="rb-frequency" name="frequency" inputmode="numeric" placeholder="1"></div>
<div><label for="rb-cycles">Times</label><input id="rb-cycles" name="cycles" inputmode="numeric" placeholder="until cancelled"></div>
<div><label for="rb-start">First on</label><input id="rb-start" name="startDate" type="date"></div>
<div><label for="rb-currency">Currency</label><input id="rb-currency" name="currency" maxlength="3" placeholder="the subscription's"></div>
<button type="submit">Add the recurring bill</button></form>`;
}

/** Creating bills and recurring bills from the tab, checked against the /v1 routes' schemas, through their services. */
export function registerTenantBillingActions(router: ConsoleRouter): void {
  const tab = (id: string) => `/console/tenants/${id}?tab=billing`;
  router.action('/console/tenants/:tenant/bills', async (context) => {
    const body = formBody<BillCreateBody>(BillCreate, context.form, {
      description: 'text',
      priceCents: 'integer',
      units: 'number',
      currency: 'text',
    });
    // As the API writes it: one statement, no transaction (its event's sequencer is nudged after the commit).
    const bill = await createBill(context.services.db, context.services, context.caller, context.params.tenant ?? '', body);
    return { redirect: tab(bill.tenant_id), notice: 'created' };
  });
  router.action('/console/tenants/:tenant/recurring-bills', async (context) => {
    const body = formBody<RecurringBillCreateBody>(RecurringBillCreate, context.form, {
      description: 'text',
      priceCents: 'integer',
      period: 'text',
      frequency: 'integer',
      cycles: 'integer',
      startDate: 'date',
      currency: 'text',
    });
    const { db } = context.services;
    const bill = await db
      .transaction()
      .execute((tx) => createRecurringBill(tx, context.services, context.caller, context.params.tenant ?? '', body));
    return { redirect: tab(bill.tenant_id), notice: 'created' };
  });
}
