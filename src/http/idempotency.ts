import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';

const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;
/** Stored responses are replayed for 24 hours, as Stripe does. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
// A key still "in progress" after this long belongs to a request whose process died.
const ABANDONED_AFTER_MS = 60_000;

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { credential: string; key: string } | null;
  }
}

/**
 * `Idempotency-Key` on POST, with Stripe's semantics: the first response to a key is
 * stored and replayed for 24 h (header `Idempotent-Replayed: true`); the same key with
 * another body is 422; the same key while the first request runs is 409. A 5xx is not
 * stored, so the client can retry it with the same key. Stored answers are encrypted.
 */
export function installIdempotency(app: FastifyInstance, db: Db, clock: Clock, box: SecretBox): void {
  app.decorateRequest('idempotency', null);

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined || !request.principal) return;
    if (typeof key !== 'string' || !KEY_SHAPE.test(key)) throw new AppError('idempotency.invalid_key', { parameter: 'Idempotency-Key' });
    const credential = `${request.principal.kind}:${request.principal.id}`;
    const requestHash = fingerprint(request);
    const now = clock.now();

    const inserted = await db
      .insertInto('idempotency_keys')
      .values({ credential, key, request_hash: requestHash, created_at: now })
      .onConflict((conflict) =>
        // An expired key, or one abandoned by a dead process, is taken over by this request.
        conflict
          .columns(['credential', 'key'])
          .doUpdateSet({ request_hash: requestHash, created_at: now, response_status: null, response_body: null })
          .where((eb) =>
            eb.or([
              eb('idempotency_keys.created_at', '<', new Date(now.getTime() - IDEMPOTENCY_TTL_MS)),
              eb.and([
                eb('idempotency_keys.response_status', 'is', null),
                eb('idempotency_keys.created_at', '<', new Date(now.getTime() - ABANDONED_AFTER_MS)),
              ]),
            ]),
          ),
      )
      .returning('key')
      .executeTakeFirst();
    if (inserted) {
      request.idempotency = { credential, key };
      return;
    }

    const stored = await db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'response_status', 'response_body'])
      .where('credential', '=', credential)
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    if (!stored.request_hash.equals(requestHash)) throw new AppError('idempotency.key_reused', { parameter: 'Idempotency-Key' });
    if (stored.response_status === null) throw new AppError('idempotency.in_progress', { parameter: 'Idempotency-Key' });
    return reply
      .code(stored.response_status)
      .header('idempotent-replayed', 'true')
      .type('application/json; charset=utf-8')
      .send(stored.response_body ? box.open(stored.response_body) : '');
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    if (reply.statusCode >= 500) {
      await db.deleteFrom('idempotency_keys').where('credential', '=', claim.credential).where('key', '=', claim.key).execute();
    } else {
      // Encrypted: an answer may hold a secret shown once (a client secret, an API key).
      await db
        .updateTable('idempotency_keys')
        .set({ response_status: reply.statusCode, response_body: box.seal(typeof payload === 'string' ? payload : '') })
        .where('credential', '=', claim.credential)
        .where('key', '=', claim.key)
        .execute();
    }
    return payload;
  });
}

function fingerprint(request: FastifyRequest): Buffer {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest();
}
