import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Principal } from '../access/principal.ts';
import type { BillingDeps } from '../billing/bills.service.ts';
import { type Db, hotStatement } from '../db/database.ts';
import { answerFor } from '../http/error-handler.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { registerAccountBillRoutes } from './account-bills.routes.ts';
import { MaestranoError, parseForm, snakeCase } from './account-input.ts';
import { doesNotExist, success } from './account-support.ts';
import { accountGroup, accountUser } from './account-views.ts';
import { groupQuery } from './groups.repo.ts';
import { numberOf } from './maestrano-format.ts';
import { type MarketplaceAuthenticator, marketplacePrincipal } from './marketplaces.service.ts';

/** Any error as Maestrano answers it: the status, and `errors` as field → messages. */
function maestranoAnswer(error: unknown, request: FastifyRequest): { status: number; errors: Record<string, string[]> } {
  if (error instanceof MaestranoError) return { status: error.status, errors: error.errors };
  const answer = answerFor(error as Parameters<typeof answerFor>[0], request);
  if (answer.status === 401) return { status: 401, errors: { authentication: ['Invalid API token'] } };
  if (answer.status === 404) return { status: 404, errors: { id: ['does not exist'] } };
  const errors: Record<string, string[]> = {};
  for (const item of answer.items) {
    const field = item.parameter ? snakeCase(item.parameter) : 'base';
    errors[field] = [...(errors[field] ?? []), item.message];
  }
  // A conflict (cancelling an invoiced bill) is a request Maestrano refuses as invalid: 400, like its SDKs expect.
  const status = answer.status === 409 || answer.status === 422 ? 400 : answer.status;
  return { status, errors: answer.internal ? { base: [`internal error (request ${request.id})`] } : errors };
}

/**
 * Maestrano's account API under `/api/v1/account/`: HTTP Basic `api.id:api.key` on every
 * request, checked before the body is read; bodies as JSON or form-encoded; answers in the
 * `{"success", "errors", "data"}` envelope with `object` on every item. A marketplace sees
 * only its own groups, users, bills and recurring bills: anything else is 404.
 */
export async function registerAccountApi(
  app: HttpApp,
  db: Db,
  deps: BillingDeps & { authenticate: MarketplaceAuthenticator },
): Promise<void> {
  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        // Public to the bearer hook (this scope authenticates), still rate limited; not in the native document.
        route.config = { ...route.config, public: true, throttled: true };
        route.schema = { ...route.schema, hide: true };
      });
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: 64 * 1024 },
        (_request, body, done) => {
          try {
            done(null, parseForm(body as string));
          } catch (error) {
            done(error as Error, undefined);
          }
        },
      );
      scope.addHook('onRequest', async (request) => {
        const marketplace = await deps.authenticate(request.headers.authorization);
        if (!marketplace) throw new MaestranoError(401, { authentication: ['Invalid API token'] });
        request.principal = marketplacePrincipal(marketplace);
      });
      scope.setErrorHandler((error, request, reply: FastifyReply) => {
        const { status, errors } = maestranoAnswer(error, request);
        if (status === 401) reply.header('www-authenticate', 'Basic realm="account"');
        return reply.code(status).type('application/json; charset=utf-8').send({ success: false, errors, data: null });
      });
      scope.setNotFoundHandler((request, reply) =>
        reply
          .code(404)
          .send({ success: false, errors: { base: [`No endpoint ${request.method} ${request.url.split('?')[0]}`] }, data: null }),
      );
      registerGroupReads(scope as unknown as HttpApp, db, deps.clock);
      registerAccountBillRoutes(scope as unknown as HttpApp, db, deps);
    },
    { prefix: '/api/v1/account' },
  );
}

type Query = Record<string, string | undefined>;

function registerGroupReads(app: HttpApp, db: Db, clock: Clock): void {
  const groupsOf = (request: FastifyRequest) => groupQuery(db).where('g.marketplace_id', '=', (request.principal as Principal).id);

  app.get('/groups', async (request) => {
    const rows = await groupsOf(request).orderBy('g.number').execute();
    return success(rows.map(accountGroup));
  });

  // The account API's hottest read: built once, a prepared statement.
  const groupByNumber = hotStatement((on, p: { marketplaceId: string; number: number }) =>
    groupQuery(on).where('g.marketplace_id', '=', p.marketplaceId).where('g.number', '=', p.number),
  );
  app.get<{ Params: { id: string } }>('/groups/:id', async (request) => {
    const number = numberOf('cld', request.params.id);
    const marketplaceId = (request.principal as Principal).id;
    const row = number ? (await groupByNumber(db, { marketplaceId, number }))[0] : undefined;
    if (!row) throw doesNotExist();
    return success(accountGroup(row));
  });

  // The marketplace's users: people in at least one of its (undeleted) groups; `group_id` narrows to one group.
  const usersOf = (request: FastifyRequest, now: Date) => {
    let members = db
      .selectFrom('memberships')
      .innerJoin('marketplace_groups as g', 'g.tenant_id', 'memberships.tenant_id')
      .select('memberships.user_id')
      .where('g.marketplace_id', '=', (request.principal as Principal).id)
      .where('g.deleted_at', 'is', null);
    const groupId = (request.query as Query).group_id;
    if (groupId !== undefined) members = members.where('g.number', '=', numberOf('cld', groupId) ?? 0);
    return db
      .selectFrom('marketplace_users as mu')
      .innerJoin('users', 'users.id', 'mu.user_id')
      .select([
        'mu.number',
        'mu.name',
        'mu.surname',
        'users.email',
        'mu.country',
        'mu.created_at',
        'mu.updated_at',
        sql<string | null>`(select s.id::text from sessions s where s.kind = 'user' and s.subject_id = users.id::text
          and s.revoked_at is null and s.idle_expires_at > ${now} and s.absolute_expires_at > ${now}
          order by s.created_at desc limit 1)`.as('sso_session'),
      ])
      .where('mu.user_id', 'in', members);
  };

  app.get('/users', async (request) => {
    const rows = await usersOf(request, clock.now()).orderBy('mu.number').execute();
    return success(rows.map(accountUser));
  });

  app.get<{ Params: { id: string } }>('/users/:id', async (request) => {
    const number = numberOf('usr', request.params.id);
    const row = number ? await usersOf(request, clock.now()).where('mu.number', '=', number).executeTakeFirst() : undefined;
    if (!row) throw doesNotExist();
    return success(accountUser(row));
  });
}
