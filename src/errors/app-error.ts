import { ERROR_CODES, type ErrorCode } from './codes.ts';

/** One problem with a request, as it appears in `metadata.errors[]`. */
export interface ErrorItem {
  code: ErrorCode;
  message: string;
  /** The request field at fault (`specifications.vat`), or '' when none is. */
  parameter: string;
  sysCode: string;
}

/** The one error type Landlord throws on purpose: a stable code, its HTTP status and the field at fault. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly items: ErrorItem[];
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    options: { message?: string; parameter?: string; more?: ErrorItem[]; headers?: Record<string, string> } = {},
  ) {
    const { status, message, sysCode } = ERROR_CODES[code];
    const text = options.message ?? message;
    super(text);
    this.code = code;
    this.status = status;
    this.headers = options.headers ?? {};
    this.items = [{ code, message: text, parameter: options.parameter ?? '', sysCode }, ...(options.more ?? [])];
  }
}

/** Builds an {@link ErrorItem} for a code, for answers that report several problems at once. */
export function errorItem(code: ErrorCode, message?: string, parameter = ''): ErrorItem {
  const entry = ERROR_CODES[code];
  return { code, message: message ?? entry.message, parameter, sysCode: entry.sysCode };
}

/** Throws an {@link AppError} with `code` unless `condition` holds. */
export function assertThat(condition: unknown, code: ErrorCode, options?: { message?: string; parameter?: string }): asserts condition {
  if (!condition) throw new AppError(code, options);
}

/** Throws one {@link AppError} carrying every problem found, when there is any. */
export function assertNoProblems(problems: readonly ErrorItem[]): void {
  const [first, ...more] = problems;
  if (first) throw new AppError(first.code, { message: first.message, parameter: first.parameter, more });
}
