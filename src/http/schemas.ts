import { type TSchema, type TString, Type } from 'typebox';

/** `T` or JSON null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** An ISO 8601 timestamp in responses (Date objects are serialised to it). */
export const Timestamp = Type.String({ format: 'date-time' });

/** A product, plan, price, feature or other system name: lower case, digits, `-` and `_`. */
export const SystemName = (description: string) =>
  Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: `${description} (lower case, 1–63 characters: a–z, 0–9, - and _)` });

/** A human-readable name. */
export const DisplayName = Type.String({ minLength: 1, maxLength: 200 });

/** Free text such as a description. */
export const Description = Type.String({ maxLength: 4000 });

/** Any JSON object (metadata, configuration); size and depth are bounded by the body guard. */
export const JsonObject = Type.Record(Type.String(), Type.Unknown(), { description: 'Any JSON object' });

/** `{id}`-or-name path parameter. */
export const RefParam = <K extends string>(name: K, description: string) =>
  Type.Object({ [name]: Type.String({ minLength: 1, maxLength: 200, description }) } as Record<K, TString>);

/** A confirmation that something is gone. */
export const Deleted = Type.Object({ id: Type.String(), deleted: Type.Boolean() });
