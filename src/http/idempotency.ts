import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { hookWhen } from './hooks.ts';

const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;
/** Stored responses are replayed for 24 hours, as Stripe does. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
// A key still "in progress" after this long belongs to a request whose process died.
const ABANDONED_AFTER_MS = 60_000;

/** The answer stored under a key: its status and its body as sent. */
export interface StoredAnswer {
  status: number;
  body: string;
}

/**
 * A claim on an idempotency key that a route makes in its own write (routes with
 * `config: { idempotency: 'in-write' }`): the claim, the change and the stored answer
 * commit together, so there is no separate claim to make first and complete after.
 */
export interface WriteClaim {
  /**
   * The claim with its `answer` as a data-modifying CTE for the route's write
   * statement, inserting only if `when` holds; it yields a row when this request takes the key.
   */
  cte(options: { answer: StoredAnswer; when?: RawBuilder<boolean> }): RawBuilder<unknown>;
  /** Answers with what the key holds (its first answer; or 409 while it runs, 422 for another body). */
  replay(reply: FastifyReply): Promise<FastifyReply>;
}

interface Claim {
  credential: string;
  key: string;
  requestHash: Buffer;
  at: Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A key claimed before the handler ran; its answer is stored when it is sent. */
    idempotency: Claim | null;
    /** A key the handler claims in its own write. */
    writeClaim: WriteClaim | null;
  }
  interface FastifyContextConfig {
    /** `in-write`: the route claims the `Idempotency-Key` in its own write statement (`request.writeClaim`). */
    idempotency?: 'in-write';
  }
}

/**
 * `Idempotency-Key` on POST, with Stripe's semantics: the first response to a key is
 * stored and replayed for 24 h (header `Idempotent-Replayed: true`); the same key with
 * another body is 422; the same key while the first request runs is 409. A 5xx is not
 * stored, so the client can retry it with the same key. Stored answers are encrypted.
 * Hot routes claim the key in their own write instead (`WriteClaim`): one commit, and
 * an answer refused before anything was written (a 4xx) is not stored but worked out again.
 */
export function installIdempotency(app: FastifyInstance, db: Db, clock: Clock, box: SecretBox): void {
  app.decorateRequest('idempotency', null);
  app.decorateRequest('writeClaim', null);

  const claimKey = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['idempotency-key'];
    const principal = request.principal;
    if (!principal) return;
    if (typeof key !== 'string' || !KEY_SHAPE.test(key)) throw new AppError('idempotency.invalid_key', { parameter: 'Idempotency-Key' });
    const claim: Claim = {
      credential: `${principal.kind}:${principal.id}`,
      key,
      requestHash: fingerprint(request),
      at: clock.now(),
    };
    if (request.routeOptions.config.idempotency === 'in-write') {
      request.writeClaim = writeClaim(db, box, claim);
      return;
    }
    const inserted = await claimStatement(claim, null).execute(db);
    if (inserted.rows.length) {
      request.idempotency = claim;
      return;
    }
    return replayStored(db, box, claim, reply);
  };
  app.addHook(
    'preHandler',
    hookWhen((request) => request.method === 'POST' && request.headers['idempotency-key'] !== undefined && !!request.principal, claimKey),
  );

  const storeClaimed = async (request: FastifyRequest, reply: FastifyReply, payload: unknown, claim: Claim) => {
    try {
      if (reply.statusCode >= 500) {
        await db.deleteFrom('idempotency_keys').where('credential', '=', claim.credential).where('key', '=', claim.key).execute();
      } else {
        await storeAnswer(db, box, claim, { status: reply.statusCode, body: typeof payload === 'string' ? payload : '' });
      }
    } catch (error) {
      // The database went away after the answer was decided. The answer is still the truth
      // (an error here would turn a 201 or a 503 into a 500); the claim stays "in progress",
      // so the same key answers 409 until it is taken over as abandoned (ABANDONED_AFTER_MS).
      request.log.warn({ err: error, key: claim.key }, 'idempotency answer not stored');
    }
  };
  // Synchronous for the requests that claimed no key (nearly all): an async onSend costs each a promise and a tick.
  app.addHook('onSend', (request, reply, payload, done) => {
    const claim = request.idempotency;
    if (!claim) {
      done(null, payload);
      return;
    }
    storeClaimed(request, reply, payload, claim).then(() => done(null, payload), done);
  });
}

function writeClaim(db: Db, box: SecretBox, claim: Claim): WriteClaim {
  return {
    cte: (options) => claimStatement(claim, sealed(box, options.answer), options.when),
    replay: (reply) => replayStored(db, box, claim, reply),
  };
}

/**
 * Inserts the claim (with its answer, if known); an expired key, or one abandoned by a
 * dead process, is taken over. Returns a row only when this request holds the key now.
 */
function claimStatement(claim: Claim, answer: { status: number; body: Buffer } | null, when?: RawBuilder<boolean>) {
  const expired = new Date(claim.at.getTime() - IDEMPOTENCY_TTL_MS);
  const abandoned = new Date(claim.at.getTime() - ABANDONED_AFTER_MS);
  return sql<{ claimed: number }>`
    insert into idempotency_keys (credential, key, request_hash, created_at, response_status, response_body)
    select ${claim.credential}, ${claim.key}, ${claim.requestHash}, ${claim.at}, ${answer?.status ?? null}::int, ${answer?.body ?? null}::bytea
    -- A claim still being written by another transaction is busy (409), not waited for.
    where ${when ?? sql`true`} and pg_try_advisory_xact_lock(hashtextextended(${claim.credential} || ' ' || ${claim.key}, 0))
    on conflict (credential, key) do update
      set request_hash = excluded.request_hash, created_at = excluded.created_at,
          response_status = excluded.response_status, response_body = excluded.response_body
      where idempotency_keys.created_at < ${expired}
         or (idempotency_keys.response_status is null and idempotency_keys.created_at < ${abandoned})
    returning 1 as claimed`;
}

// Encrypted: an answer may hold a secret shown once (a client secret, an API key).
function sealed(box: SecretBox, answer: StoredAnswer) {
  return { status: answer.status, body: box.seal(answer.body) };
}

async function storeAnswer(db: Db, box: SecretBox, claim: Claim, answer: StoredAnswer): Promise<void> {
  const { status, body } = sealed(box, answer);
  await sql`update idempotency_keys set response_status = ${status}::int, response_body = ${body}::bytea
    where credential = ${claim.credential} and key = ${claim.key}`.execute(db);
}

async function replayStored(db: Db, box: SecretBox, claim: Claim, reply: FastifyReply): Promise<FastifyReply> {
  const stored = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_status', 'response_body'])
    .where('credential', '=', claim.credential)
    .where('key', '=', claim.key)
    .executeTakeFirst();
  // Gone between the claim and this read (a 5xx released it): as busy as a running request.
  if (!stored) throw new AppError('idempotency.in_progress', { parameter: 'Idempotency-Key' });
  if (!stored.request_hash.equals(claim.requestHash)) throw new AppError('idempotency.key_reused', { parameter: 'Idempotency-Key' });
  if (stored.response_status === null) throw new AppError('idempotency.in_progress', { parameter: 'Idempotency-Key' });
  return reply
    .code(stored.response_status)
    .header('idempotent-replayed', 'true')
    .type('application/json; charset=utf-8')
    .send(stored.response_body ? box.open(stored.response_body) : '');
}

function fingerprint(request: FastifyRequest): Buffer {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest();
}
