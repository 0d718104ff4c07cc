import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.ts';

/** A versioned row: `version` goes up by one on every change. */
export interface Versioned {
  id: string;
  version: number;
}

/** The strong ETag of a row's current version. */
export function etagOf(row: Versioned): string {
  return `"${row.id.slice(-12)}.${row.version}"`;
}

/** Sets the ETag header of a response to the row's current version. */
export function setETag(reply: FastifyReply, row: Versioned): void {
  reply.header('etag', etagOf(row));
}

/** The `If-Match` header of a request, if it sent one. */
export function ifMatchOf(request: FastifyRequest): string | undefined {
  const value = request.headers['if-match'];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * Refuses (412) a write whose `If-Match` does not name the row's current version.
 * Call it on the row locked in the write's transaction, so the check and the write are one.
 */
export function assertIfMatch(ifMatch: string | undefined, row: Versioned): void {
  if (ifMatch === undefined || ifMatch === '*') return;
  const current = etagOf(row);
  const candidates = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (!candidates.includes(current)) {
    throw new AppError('request.precondition_failed', {
      message: `If-Match ${ifMatch} does not match the current ETag ${current}`,
      parameter: 'If-Match',
    });
  }
}
