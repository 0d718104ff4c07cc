import type { SpecificationView } from '../catalogue/specifications.schemas.ts';
import type { TenantRecord } from '../tenants/tenants.repo.ts';
import { LIVE_STATUSES, type Status, type Step, stepOf } from '../tenants/workflow.ts';

/** RoSaaS's tenant status numbers. */
export const ROSAAS_STATUS: Record<Status, number> = {
  record_created: 1,
  sending_creation_request: 2,
  creating: 3,
  created_as_active: 4,
  sending_activation_request: 5,
  activating: 6,
  active: 7,
  sending_deactivation_request: 8,
  deactivating: 9,
  inactive: 10,
  sending_deletion_request: 11,
  deleting: 12,
  deleted: 13,
  failure: 14,
};

const STATUS_NAME: Record<Status, string> = {
  record_created: 'RecordCreated',
  sending_creation_request: 'SendingCreationRequest',
  creating: 'Creating',
  created_as_active: 'CreatedAsActive',
  sending_activation_request: 'SendingActivationRequest',
  activating: 'Activating',
  active: 'Active',
  sending_deactivation_request: 'SendingDeactivationRequest',
  deactivating: 'Deactivating',
  inactive: 'Inactive',
  sending_deletion_request: 'SendingDeletionRequest',
  deleting: 'Deleting',
  deleted: 'Deleted',
  failure: 'Failure',
};

/** RoSaaS-style step numbers: the step in progress (or failed), 0 when none. */
const STEP_NUMBER: Record<Step, number> = { creation: 1, activation: 2, deactivation: 3, deletion: 4 };

/** `isActive` as RoSaaS means it: the tenant is live. */
export const isActive = (status: Status): boolean => LIVE_STATUSES.includes(status);

/** A tenant in RoSaaS's shape. */
export function toRosaasTenant(record: TenantRecord, specifications: SpecificationView[]) {
  const status = record.status as Status;
  const step = (record.failed_step as Step | null) ?? stepOf(status);
  return {
    id: record.id,
    systemName: record.name,
    displayName: record.display_name,
    status: ROSAAS_STATUS[status],
    statusName: STATUS_NAME[status],
    step: step ? STEP_NUMBER[step] : 0,
    stepName: step ?? null,
    isActive: isActive(status),
    metadata: record.metadata,
    plan: record.plan_price_id ? { planPriceId: record.plan_price_id, planPriceSystemName: record.plan_price_name } : null,
    specifications: specifications
      .filter((spec) => spec.name in record.specifications)
      .map((spec) => ({ systemName: spec.name, displayName: spec.displayName, value: record.specifications[spec.name] })),
    createdDate: record.created_at.toISOString(),
    editedDate: record.updated_at.toISOString(),
  };
}
