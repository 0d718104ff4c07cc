import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorItem, errorItem } from '../errors/app-error.ts';
import { failure } from './envelope.ts';
import { validationItems } from './validation.ts';

const FASTIFY_CODES: Record<string, () => ErrorItem> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => errorItem('request.malformed_json'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => errorItem('request.malformed_json', 'The request says it has a JSON body but it is empty'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => errorItem('request.body_too_large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => errorItem('request.unsupported_media_type'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => errorItem('request.invalid', 'Content-Length does not match the body'),
};

// PostgreSQL connection failures: the database is down or restarting, not the request at fault.
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '53300']);

/** Answers every error in the envelope: 4xx naming the fault, or 500/503 with the request id. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validation?: ErrorObject[] }, request, reply) => {
    if (error instanceof AppError) return send(reply, error.status, error.items, error.headers);
    if (error.validation) {
      return send(reply, 400, validationItems(error.validation, error.validationContext ?? 'body'));
    }
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (known) return send(reply, error.statusCode ?? 400, [known()]);
    if (error instanceof SyntaxError && error.statusCode === 400)
      return send(reply, 400, [errorItem('request.malformed_json', error.message)]);
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return send(reply, error.statusCode, [errorItem('request.invalid', error.message)]);
    }
    const pgCode = (error as { code?: string }).code ?? '';
    // Data exceptions (class 22) and program limits (54) are input the schemas let through.
    if (/^(22|54)/.test(pgCode))
      return send(reply, 400, [errorItem('request.invalid', 'A value in the request cannot be stored as given')]);
    if (UNAVAILABLE.has(pgCode)) {
      request.log.warn({ err: error }, 'database unavailable');
      return send(reply, 503, [errorItem('server.unavailable')], { 'retry-after': '1' });
    }
    request.log.error({ err: error, reqId: request.id }, 'unexpected error');
    return send(reply, 500, [errorItem('server.internal')], {}, request);
  });

  app.setNotFoundHandler((request, reply) => {
    send(reply, 404, [errorItem('request.route_not_found', `No endpoint ${request.method} ${request.url.split('?')[0]}`)]);
  });
}

function send(reply: FastifyReply, status: number, items: ErrorItem[], headers: Record<string, string> = {}, request?: FastifyRequest) {
  return reply.code(status).headers(headers).type('application/json; charset=utf-8').send(failure(items, request?.id));
}
