import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.ts';

type Raw = Record<string, unknown> | undefined;

function firstStrings(raw: Raw): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(raw ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first.trim().slice(0, 10_000);
  }
  return out;
}

/** The request's query values (first of each, trimmed). */
export function queryOf(request: FastifyRequest): Record<string, string | undefined> {
  return firstStrings(request.query as Raw);
}

/** The request's form fields (first of each, trimmed); empty for a request without a form. */
export function formOf(request: FastifyRequest): Record<string, string | undefined> {
  return firstStrings(request.body && typeof request.body === 'object' ? (request.body as Raw) : undefined);
}

/**
 * Refuses (403) an unsafe request whose `Origin` is not the console's own: the public URL's
 * origin when one is configured, else the origin the request was addressed to. A browser
 * always sends `Origin` on a POST; its absence is refused too.
 */
export function checkOrigin(request: FastifyRequest, publicUrl: string | undefined): void {
  const origin = request.headers.origin;
  const expected = publicUrl ? new URL(publicUrl).origin : `${request.protocol}://${request.headers.host ?? ''}`;
  if (!origin || origin !== expected)
    throw new AppError('console.forbidden_origin', { message: 'The request did not come from this console', parameter: 'origin' });
}
