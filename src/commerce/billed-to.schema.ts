import { Type } from 'typebox';
import { Nullable } from '../http/schemas.ts';

/**
 * The billing profile an invoice was issued to (issue #14), as the invoice API and every `invoice.*` event show
 * it. A file of its own so that the event catalogue can use it without loading the commerce services.
 */
export const BilledTo = Nullable(
  Type.Object(
    {
      name: Type.String(),
      company: Nullable(Type.String()),
      email: Type.String(),
      address: Type.Record(Type.String(), Type.Unknown()),
      vatId: Nullable(Type.String()),
    },
    { description: 'The tenant’s billing profile as it was when the invoice was finalized; null for a draft or without a profile' },
  ),
);
