import { Type } from 'typebox';
import type { Authenticator } from '../access/authenticator.ts';
import type { ConnectionVerifier } from '../connections/verifier.ts';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import { PageQuery } from '../http/pagination.ts';
import { Deleted, RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import { acceptInvitation } from './invitations.service.ts';
import {
  addMembership,
  changeMembership,
  getMembership,
  listMemberships,
  type PeopleDeps,
  removeMembership,
} from './memberships.service.ts';
import { InvitationAccept, Membership, MembershipCreate, MembershipCreated, MembershipUpdate, User } from './people.schemas.ts';
import { tenantActorHook } from './tenant-actor.ts';
import { getUser } from './users.service.ts';

const tags = ['People'];
const TenantParams = RefParam('tenant', 'Tenant id or name');
const MembershipParams = Type.Object({
  ...TenantParams.properties,
  login: Type.String({ minLength: 1, maxLength: 254, description: 'The user’s login in the tenant (ignoring case)' }),
});
const WHO =
  'Operators, the product’s clients and resellers; or a tenant’s own API connection holding `user_management` (HTTP Basic `<connection id>:<secret>`), which may grant only permissions it holds and may not touch a user who holds more.';

/** What the people routes need. */
export interface PeopleRouteDeps extends PeopleDeps {
  authenticator: Authenticator;
  verifier: ConnectionVerifier;
}

/** `/v1/tenants/{tenant}/users`, `/v1/users/{user}` and `/v1/invitations/accept`: who belongs to which tenant. */
export async function registerPeopleRoutes(app: HttpApp, db: Db, deps: PeopleRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    // A tenant's own connection may call these, so they authenticate here rather than in the global bearer hook.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true, throttled: true };
    });
    scope.addHook('onRequest', tenantActorHook(deps.authenticator, deps.verifier));
    registerMembershipRoutes(scope as unknown as HttpApp, db, deps);
  });

  app.get(
    '/v1/users/:user',
    {
      schema: {
        tags,
        summary: 'Get a user with their memberships',
        description:
          'By id or e-mail. A credential confined to a product sees only memberships in its tenants; a person with none there is 404.',
        params: RefParam('user', 'User id or e-mail'),
        response: { 200: envelope(User), ...errors(401, 404, 429) },
      },
    },
    async (request) => ok(await getUser(db, principalOf(request), request.params.user)),
  );

  app.post(
    '/v1/invitations/accept',
    {
      config: { public: true, throttled: true },
      schema: {
        tags,
        summary: 'Accept an invitation',
        description:
          'No credential: the invitation token is the proof. The person joins the tenant with the roles and permissions they were invited with; a person new to Landlord is created (`fullName` from the body, else from the invitation). A token works once; expired is 410.',
        security: [],
        body: InvitationAccept,
        response: { 200: envelope(Membership), ...errors(400, 404, 409, 410, 413, 429) },
      },
    },
    async (request) => ok(await db.transaction().execute((tx) => acceptInvitation(tx, deps, request.body, request.id))),
  );
}

function registerMembershipRoutes(app: HttpApp, db: Db, deps: PeopleDeps): void {
  app.post(
    '/v1/tenants/:tenant/users',
    {
      schema: {
        tags,
        summary: 'Add a user to a tenant',
        description: `${WHO} A person known by this e-mail joins at once; anyone else is invited: the response carries the invitation token (shown once) to send them, and \`membership.invited\` is emitted.`,
        params: TenantParams,
        body: MembershipCreate,
        response: { 201: envelope(MembershipCreated), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const view = await db
        .transaction()
        .execute((tx) => addMembership(tx, deps, callerOf(request), request.params.tenant, request.body, { onUnknownEmail: 'invite' }));
      return reply.code(201).send(ok(view));
    },
  );

  app.get(
    '/v1/tenants/:tenant/users',
    {
      schema: {
        tags,
        summary: 'List a tenant’s users',
        description: WHO,
        params: TenantParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(Membership), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listMemberships(db, callerOf(request), request.params.tenant, request.query.cursor, limit);
      return okPage(page.items, page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/tenants/:tenant/users/:login',
    {
      schema: {
        tags,
        summary: 'Get a tenant’s user',
        description: WHO,
        params: MembershipParams,
        response: { 200: envelope(Membership), ...errors(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { view, record } = await getMembership(db, callerOf(request), request.params.tenant, request.params.login);
      setETag(reply, record);
      return ok(view);
    },
  );

  app.patch(
    '/v1/tenants/:tenant/users/:login',
    {
      schema: {
        tags,
        summary: 'Change a user’s roles or permissions',
        description: `${WHO} Lists given replace the current ones; the tenant’s last owner keeps the owner role. Honours \`If-Match\`.`,
        params: MembershipParams,
        body: MembershipUpdate,
        response: { 200: envelope(Membership), ...errors(400, 401, 403, 404, 409, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, login } = request.params;
      const { view, record } = await db
        .transaction()
        .execute((tx) => changeMembership(tx, deps, callerOf(request), tenant, login, request.body, ifMatchOf(request)));
      setETag(reply, record);
      return ok(view);
    },
  );

  app.delete(
    '/v1/tenants/:tenant/users/:login',
    {
      schema: {
        tags,
        summary: 'Remove a user from a tenant',
        description: `${WHO} The person stays; their membership and login links go. The tenant’s last owner cannot be removed.`,
        params: MembershipParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) => {
      const { tenant, login } = request.params;
      const id = await db.transaction().execute((tx) => removeMembership(tx, callerOf(request), tenant, login));
      return ok({ id, deleted: true });
    },
  );
}
