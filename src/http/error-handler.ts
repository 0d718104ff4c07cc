import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
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

/** An error answer before it is sent: status, envelope items and extra headers. */
export interface ErrorAnswer {
  status: number;
  items: ErrorItem[];
  headers: Record<string, string>;
  /** The answer is Landlord's fault: include the request id so the log line can be found. */
  internal: boolean;
}

/** Decides the answer to any error a route threw: a 4xx naming the fault, or 500/503. */
export function answerFor(error: FastifyError & { validation?: ErrorObject[] }, request: FastifyRequest): ErrorAnswer {
  const answer = (status: number, items: ErrorItem[], headers: Record<string, string> = {}, internal = false) => ({
    status,
    items,
    headers,
    internal,
  });
  if (error instanceof AppError) return answer(error.status, error.items, error.headers);
  if (error.validation) return answer(400, validationItems(error.validation, error.validationContext ?? 'body'));
  const known = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (known) return answer(error.statusCode ?? 400, [known()]);
  if (error instanceof SyntaxError && error.statusCode === 400) return answer(400, [errorItem('request.malformed_json', error.message)]);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return answer(error.statusCode, [errorItem('request.invalid', error.message)]);
  }
  const pgCode = (error as { code?: string }).code ?? '';
  // Data exceptions (class 22) and program limits (54) are input the schemas let through.
  if (/^(22|54)/.test(pgCode)) return answer(400, [errorItem('request.invalid', 'A value in the request cannot be stored as given')]);
  // The database is down, restarting or failing over: not the request at fault, and worth retrying as it is.
  // Logged at debug: the outage itself is reported once, by readiness and the supervisor, not once per request.
  if (isDatabaseUnavailable(error)) {
    request.log.debug({ err: error }, 'database unavailable');
    return answer(503, [errorItem('server.unavailable')], { 'retry-after': '1' });
  }
  request.log.error({ err: error, reqId: request.id }, 'unexpected error');
  return answer(500, [errorItem('server.internal')], {}, true);
}

/** Sends an error answer in the envelope. */
export function sendError(reply: FastifyReply, answer: ErrorAnswer) {
  return reply
    .code(answer.status)
    .headers(answer.headers)
    .type('application/json; charset=utf-8')
    .send(failure(answer.items, answer.internal ? reply.request.id : undefined));
}

/** Fastify's framework errors (before routing) in the envelope: a malformed URL, an overlong parameter. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'The URL is not valid (a malformed percent-encoding?)'
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'A path parameter is longer than 500 characters'
        : error.message;
  return sendError(reply, {
    status: error.statusCode ?? 400,
    items: [errorItem('request.invalid', message)],
    headers: {},
    internal: false,
  });
}

/** Answers every error in the envelope: 4xx naming the fault, or 500/503 with the request id. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(reply, answerFor(error, request)));
  app.setNotFoundHandler((request, reply) => {
    const message = `No endpoint ${request.method} ${request.url.split('?')[0]}`;
    sendError(reply, { status: 404, items: [errorItem('request.route_not_found', message)], headers: {}, internal: false });
  });
}
