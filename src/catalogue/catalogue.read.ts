import type { Db } from '../db/database.ts';
import { toPlanFeatureView, toPlanView, toPriceView, toSpecificationView } from './catalogue.views.ts';
import { findPlanFeaturesOfPlans } from './plan-features.repo.ts';
import type { PlanFeatureView } from './plan-features.schemas.ts';
import { findPublishedPlans } from './plans.repo.ts';
import type { PlanView } from './plans.schemas.ts';
import { findPricesOfPlans } from './prices.repo.ts';
import type { PriceView } from './prices.schemas.ts';
import { findPublishedSpecifications } from './specifications.repo.ts';
import type { SpecificationView } from './specifications.schemas.ts';

/** A published plan as it is offered: its published prices and the features it includes. */
export interface PublishedPlan extends PlanView {
  prices: PriceView[];
  features: PlanFeatureView[];
}

/**
 * What a product offers for sale: its published plans in display order (then by name),
 * each with its published prices and its features. A published plan without a
 * published price is listed with `prices: []`.
 */
export async function readPublishedPlans(db: Db, productId: string): Promise<PublishedPlan[]> {
  const plans = await findPublishedPlans(db, productId);
  const planIds = plans.map((plan) => plan.id);
  const [prices, attachments] = await Promise.all([
    findPricesOfPlans(db, planIds, { onlyPublished: true }),
    findPlanFeaturesOfPlans(db, planIds),
  ]);
  return plans.map((plan) => ({
    ...toPlanView(plan),
    prices: prices.filter((price) => price.plan_id === plan.id).map(toPriceView),
    features: attachments.filter((attachment) => attachment.plan_id === plan.id).map(toPlanFeatureView),
  }));
}

/** The specifications a product asks of its tenants (the published ones), in creation order. */
export async function readPublishedSpecifications(db: Db, productId: string): Promise<SpecificationView[]> {
  return (await findPublishedSpecifications(db, productId)).map(toSpecificationView);
}
