import { type TString, Type } from 'typebox';
import { PageQuery } from '../http/pagination.ts';

/** An id-or-name path parameter; a NUL (`%00`) is refused here, naming the parameter, since PostgreSQL cannot compare it. */
const Ref = (description: string) => Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000]+$', description });

const REFS = {
  product: Ref('Product id or system name'),
  plan: Ref('Plan id or name within the product'),
  price: Ref('Plan price id or name within the product'),
  feature: Ref('Feature id or name within the product'),
  specification: Ref('Specification id or name within the product'),
} as const;

/** Path parameters of a catalogue route: the product, then the objects under it. */
export function CatalogueParams<K extends keyof typeof REFS>(...names: K[]) {
  return Type.Object(Object.fromEntries(names.map((name) => [name, REFS[name]])) as Record<K, TString>);
}

/** Query of a list: a cursor page. */
export const ListQuery = Type.Object(PageQuery, { additionalProperties: false });

/** Query of a list that can be narrowed to published (or unpublished) objects. */
export const PublishableListQuery = Type.Object(
  { ...PageQuery, published: Type.Optional(Type.Boolean({ description: 'Only published (`true`) or unpublished (`false`) objects' })) },
  { additionalProperties: false },
);

/** The OpenAPI tag of catalogue routes. */
export const catalogueTags = ['Catalogue'];
