import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { readPublishedPlans, readPublishedSpecifications } from './catalogue.read.ts';
import { created } from './catalogue.test-support.ts';
import { findPriceForProduct } from './prices.repo.ts';
import { requirePublishedPrice } from './prices.service.ts';

let landlord: TestLandlord;
let product: { id: string; name: string };
let other: { id: string; name: string };
const ids: Record<string, string> = {};
beforeAll(async () => {
  landlord = await startTestLandlord();
  product = await createProduct(landlord.admin);
  other = await createProduct(landlord.admin);
  const base = `/v1/products/${product.name}`;
  // basic (order 2, published) with a published and a draft price; pro (order 1, published); draft plan hidden.
  for (const [name, displayOrder, published] of [
    ['basic', 2, true],
    ['pro', 1, true],
    ['hidden', 0, false],
  ] as const)
    ids[name] = (await created(landlord.admin, `${base}/plans`, { name, displayName: name, displayOrder, published })).id;
  ids.basicMonthly = (
    await created(landlord.admin, `${base}/plans/basic/prices`, {
      name: 'basic-monthly',
      cycle: 'month',
      amount: 500,
      currency: 'EUR',
      published: true,
    })
  ).id;
  ids.basicDraft = (
    await created(landlord.admin, `${base}/plans/basic/prices`, { name: 'basic-draft', cycle: 'year', amount: 5000, currency: 'EUR' })
  ).id;
  ids.hiddenPrice = (
    await created(landlord.admin, `${base}/plans/hidden/prices`, {
      name: 'hidden-monthly',
      cycle: 'month',
      amount: 1,
      currency: 'EUR',
      published: true,
    })
  ).id;
  await created(landlord.admin, `${base}/features`, { name: 'seats', displayName: 'Seats', type: 'number', unit: 'users' });
  await created(landlord.admin, `${base}/plans/basic/features`, { feature: 'seats', limit: 3 });
  await created(landlord.admin, `${base}/specifications`, { name: 'vat', displayName: 'VAT', type: 'string', published: true });
  await created(landlord.admin, `${base}/specifications`, { name: 'draft', displayName: 'Draft', type: 'string' });
});
afterAll(async () => {
  await landlord?.close();
});

describe('readPublishedPlans', () => {
  it('lists published plans in display order with only their published prices and their features', async () => {
    const plans = await readPublishedPlans(landlord.node.services.db, product.id);
    expect(plans.map((plan) => plan.name)).toEqual(['pro', 'basic']);
    expect(plans[0]).toMatchObject({ name: 'pro', prices: [], features: [] });
    expect(plans[1]?.prices).toEqual([
      expect.objectContaining({ id: ids.basicMonthly, name: 'basic-monthly', amount: 500, currency: 'EUR' }),
    ]);
    expect(plans[1]?.features).toEqual([expect.objectContaining({ featureName: 'seats', limit: 3, unit: 'users' })]);
    expect(await readPublishedPlans(landlord.node.services.db, other.id)).toEqual([]);
  });
});

describe('readPublishedSpecifications', () => {
  it('lists only the published specifications of the product', async () => {
    const specs = await readPublishedSpecifications(landlord.node.services.db, product.id);
    expect(specs.map((spec) => spec.name)).toEqual(['vat']);
    expect(await readPublishedSpecifications(landlord.node.services.db, other.id)).toEqual([]);
  });
});

describe('findPriceForProduct', () => {
  it('finds a price by id or name within the product, with its plan’s name and published flag', async () => {
    const { db } = landlord.node.services;
    expect(await findPriceForProduct(db, product.id, 'basic-monthly')).toMatchObject({
      id: ids.basicMonthly,
      plan_id: ids.basic,
      published: true,
      plan_name: 'basic',
      plan_published: true,
    });
    expect(await findPriceForProduct(db, product.id, 'BASIC-MONTHLY')).toMatchObject({ id: ids.basicMonthly });
    expect(await findPriceForProduct(db, product.id, ids.hiddenPrice as string)).toMatchObject({
      name: 'hidden-monthly',
      plan_published: false,
    });
    expect(await findPriceForProduct(db, product.id, 'nope')).toBeUndefined();
    expect(await findPriceForProduct(db, other.id, 'basic-monthly')).toBeUndefined();
    expect(await findPriceForProduct(db, other.id, ids.basicMonthly as string)).toBeUndefined();
  });
});

describe('requirePublishedPrice', () => {
  it('returns a price on sale and refuses an unknown one (404) or one not on sale (400), naming the parameter', async () => {
    const { db } = landlord.node.services;
    expect((await requirePublishedPrice(db, product.id, 'basic-monthly', 'plan')).id).toBe(ids.basicMonthly);
    await expect(requirePublishedPrice(db, product.id, 'nope', 'plan')).rejects.toMatchObject({
      code: 'price.not_found',
      status: 404,
      items: [expect.objectContaining({ parameter: 'plan' })],
    });
    for (const unsold of ['basic-draft', 'hidden-monthly'])
      await expect(requirePublishedPrice(db, product.id, unsold, 'planPriceId')).rejects.toMatchObject({
        code: 'price.not_published',
        status: 400,
        items: [expect.objectContaining({ parameter: 'planPriceId' })],
      });
  });
});
