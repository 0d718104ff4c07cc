import pg from 'pg';

/**
 * Seeds `count` tenants of a product, each with an active daily subscription anchored at `anchor` whose period 0
 * has ended: every boundary from 1 up to now is due. Straight SQL, so thousands take a moment (tests and bench).
 */
export async function seedDueSubscriptions(
  databaseUrl: string,
  input: { productId: string; priceId: string; count: number; anchor: Date; prefix: string },
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `with t as (
         insert into tenants (id, product_id, name, display_name, plan_price_id)
         select gen_random_uuid(), $1, $3 || '-' || g, 'Seeded', $2 from generate_series(1, $4::int) as g
         returning id)
       insert into subscriptions (id, product_id, tenant_id, price_id, status, cycle_unit, cycle_count, amount_minor, currency, time_zone,
         anchor_at, anchor_number, start_at, auto_renew, current_period_number, current_period_start, current_period_end, next_action_at,
         created_at, updated_at)
       select gen_random_uuid(), $1, t.id, $2, 'active', 'day', 1, 1000, 'EUR', 'UTC', $5::timestamptz, 0, $5::timestamptz, true, 0,
         $5::timestamptz, $5::timestamptz + interval '1 day', $5::timestamptz + interval '1 day', now(), now()
       from t`,
      [input.productId, input.priceId, input.prefix, input.count, input.anchor],
    );
  } finally {
    await client.end();
  }
}

/** What the renewals of a product wrote: periods and invoices per subscription, and the invoice numbers. */
export async function renewalTotals(databaseUrl: string, productId: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const perSubscription = await client.query<{ periods: string; max_number: number | null; invoices: string; lines: string }>(
      `with p as (select subscription_id, count(*) as periods, max(number) as max_number from subscription_periods
                  where product_id = $1 group by subscription_id),
            i as (select i.subscription_id, count(distinct i.id) as invoices, count(l.id) as lines
                  from invoices i left join invoice_lines l on l.invoice_id = i.id where i.product_id = $1 group by i.subscription_id)
       select coalesce(p.periods, 0) as periods, p.max_number, coalesce(i.invoices, 0) as invoices, coalesce(i.lines, 0) as lines
       from subscriptions s left join p on p.subscription_id = s.id left join i on i.subscription_id = s.id
       where s.product_id = $1`,
      [productId],
    );
    const numbers = await client.query<{ count: string; distinct_count: string; min: string | null; max: string | null }>(
      `select count(*) as count, count(distinct number) as distinct_count, min(number) as min, max(number) as max
       from invoices where product_id = $1`,
      [productId],
    );
    const row = numbers.rows[0];
    return {
      subscriptions: perSubscription.rows.map((r) => ({
        periods: Number(r.periods),
        maxNumber: r.max_number,
        invoices: Number(r.invoices),
        lines: Number(r.lines),
      })),
      invoices: { count: Number(row?.count), distinct: Number(row?.distinct_count), min: Number(row?.min), max: Number(row?.max) },
    };
  } finally {
    await client.end();
  }
}

/** How many invoices a product has (cheap enough to poll). */
export async function invoiceCount(databaseUrl: string, productId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>('select count(*) as n from invoices where product_id = $1', [productId]);
    return Number(result.rows[0]?.n);
  } finally {
    await client.end();
  }
}
