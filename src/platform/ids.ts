import { v7 } from 'uuid';

/** A new time-ordered id (UUIDv7), so primary keys double as a stable page order. */
export const newId = (): string => v7();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` has the shape of a UUID (and so is looked up as an id, not a name). */
export const isUuid = (value: string): boolean => UUID.test(value);
