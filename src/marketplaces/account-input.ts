/**
 * Reading the account API's bodies the way the SDKs send them: JSON (Java) with typed values,
 * or form-encoded (Ruby, PHP) where every value is a string. Problems are collected as
 * Maestrano reports them: field → messages.
 */

/** An error answered in Maestrano's shape: `{"success": false, "errors": {field: [messages]}, "data": null}`. */
export class MaestranoError extends Error {
  override name = 'MaestranoError';
  readonly status: number;
  readonly errors: Record<string, string[]>;

  constructor(status: number, errors: Record<string, string[]>) {
    super(
      Object.entries(errors)
        .map(([field, messages]) => `${field} ${messages.join(', ')}`)
        .join('; '),
    );
    this.status = status;
    this.errors = errors;
  }
}

/** Parses an `application/x-www-form-urlencoded` body; a malformed percent-encoding names its field. */
export function parseForm(text: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    const rawValue = equals < 0 ? '' : pair.slice(equals + 1);
    const decode = (raw: string) => decodeURIComponent(raw.replace(/\+/g, ' '));
    let name: string;
    try {
      name = decode(rawName);
    } catch {
      throw new MaestranoError(400, { body: ['is not a valid form (a malformed percent-encoding)'] });
    }
    try {
      fields[name] = decode(rawValue);
    } catch {
      throw new MaestranoError(400, { [name]: ['is not validly encoded'] });
    }
  }
  return fields;
}

/** Reads typed fields from a body, collecting every problem; `check()` throws them all at once as a 400. */
export class FieldReader {
  private readonly problems: Record<string, string[]> = {};
  private readonly body: Record<string, unknown>;

  constructor(body: unknown) {
    this.body = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  }

  /** Records a problem with a field. */
  problem(field: string, message: string): void {
    this.problems[field] = [...(this.problems[field] ?? []), message];
  }

  private raw(field: string): unknown {
    const value = Object.hasOwn(this.body, field) ? this.body[field] : undefined;
    return value === '' ? undefined : value;
  }

  /** A non-blank string (at most `max` characters). */
  string(field: string, options: { required: true; max?: number }): string;
  string(field: string, options?: { required?: false; max?: number }): string | undefined;
  string(field: string, options: { required?: boolean; max?: number } = {}): string | undefined {
    const value = this.raw(field);
    if (value === undefined || value === null) {
      if (options.required) this.problem(field, "can't be blank");
      return undefined;
    }
    if (typeof value !== 'string') return void this.problem(field, 'must be a string');
    if (value.length > (options.max ?? 1000)) return void this.problem(field, `is too long (maximum is ${options.max ?? 1000} characters)`);
    return value;
  }

  /** An integer, from a JSON number or a form's digits, at least `min`. */
  integer(field: string, options: { required: true; min?: number; max?: number }): number;
  integer(field: string, options?: { required?: false; min?: number; max?: number }): number | undefined;
  integer(field: string, options: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const value = this.raw(field);
    if (value === undefined || value === null) {
      if (options.required) this.problem(field, "can't be blank");
      return undefined;
    }
    const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number)) return void this.problem(field, 'is not an integer');
    if (options.min !== undefined && number < options.min)
      return void this.problem(field, `must be greater than or equal to ${options.min}`);
    if (options.max !== undefined && number > options.max) return void this.problem(field, `must be less than or equal to ${options.max}`);
    return number;
  }

  /** A positive number (units: `1.5`). */
  positive(field: string): number | undefined {
    const value = this.raw(field);
    if (value === undefined || value === null) return undefined;
    const number =
      typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,9}(\.\d{1,6})?$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isFinite(number) || number <= 0) return void this.problem(field, 'must be a number greater than 0');
    return number;
  }

  /** An ISO 8601 date-time, returned as given once it parses. */
  dateTime(field: string): string | undefined {
    const value = this.string(field, { max: 64 });
    if (value === undefined) return undefined;
    if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value) || Number.isNaN(Date.parse(value)))
      return void this.problem(field, 'is not an ISO 8601 date-time');
    return value;
  }

  /** An ISO 4217 currency code. */
  currency(field: string): string | undefined {
    const value = this.string(field, { max: 3 });
    if (value !== undefined && !/^[A-Z]{3}$/.test(value)) return void this.problem(field, 'is not an ISO 4217 currency code');
    return value;
  }

  /** Throws the problems found, if any, as one 400. */
  check(): void {
    if (Object.keys(this.problems).length > 0) throw new MaestranoError(400, this.problems);
  }
}

/** A native field name as the account API spells it (`priceCents` → `price_cents`). */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
