import type { FeatureRow } from './features.repo.ts';
import type { FeatureView } from './features.schemas.ts';
import type { PlanFeatureRow, PlanFeatureWithFeature } from './plan-features.repo.ts';
import type { PlanFeatureView } from './plan-features.schemas.ts';
import type { PlanRow } from './plans.repo.ts';
import type { PlanView } from './plans.schemas.ts';
import type { PriceRow } from './prices.repo.ts';
import type { PriceView } from './prices.schemas.ts';
import type { SpecificationRow } from './specifications.repo.ts';
import type { SpecificationView } from './specifications.schemas.ts';

/** The API view of a plan. */
export function toPlanView(row: PlanRow): PlanView {
  return {
    id: row.id,
    productId: row.product_id,
    name: row.name,
    displayName: row.display_name,
    description: row.description,
    displayOrder: row.display_order,
    published: row.published,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The API view of a plan price (`amount` in minor units). */
export function toPriceView(row: PriceRow): PriceView {
  return {
    id: row.id,
    productId: row.product_id,
    planId: row.plan_id,
    name: row.name,
    cycle: row.cycle,
    customDays: row.custom_days,
    amount: row.amount_minor,
    currency: row.currency,
    trialDays: row.trial_days,
    published: row.published,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The API view of a feature. */
export function toFeatureView(row: FeatureRow): FeatureView {
  return {
    id: row.id,
    productId: row.product_id,
    name: row.name,
    displayName: row.display_name,
    description: row.description,
    type: row.type,
    unit: row.unit,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The API view of a feature attached to a plan, with the feature's names. */
export function toPlanFeatureView(row: PlanFeatureWithFeature): PlanFeatureView {
  return {
    id: row.id,
    planId: row.plan_id,
    featureId: row.feature_id,
    featureName: row.feature_name,
    featureDisplayName: row.feature_display_name,
    featureType: row.feature_type,
    limit: row.limit_value,
    unit: row.unit,
    reset: row.reset,
    enforcement: row.enforcement,
    thresholds: row.thresholds,
    overageUnitPrice: row.overage_unit_price_minor,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** An attachment joined with the feature it attaches (the shape list queries return). */
export function withFeatureNames(row: PlanFeatureRow, feature: FeatureRow): PlanFeatureWithFeature {
  return { ...row, feature_name: feature.name, feature_display_name: feature.display_name, feature_type: feature.type };
}

/** The API view of a specification. */
export function toSpecificationView(row: SpecificationRow): SpecificationView {
  return {
    id: row.id,
    productId: row.product_id,
    name: row.name,
    displayName: row.display_name,
    description: row.description,
    type: row.type,
    required: row.required,
    pattern: row.pattern,
    userEditable: row.user_editable,
    published: row.published,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
