import { type Static, Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { HttpApp } from '../http/types.ts';
import { assertWithin, effectivePermissions, loadAccessModel } from '../people/access-model.ts';
import type { MembershipRecord } from '../people/memberships.repo.ts';
import * as memberships from '../people/memberships.repo.ts';
import { addMembership, changeMembership } from '../people/memberships.service.ts';
import { RoleList } from '../people/people.schemas.ts';
import type { Clock } from '../platform/clock.ts';
import { IdParams, roomleErrors, roomleTags as tags, wrapped } from './roomle.schemas.ts';
import { nativeCaller, type RoomleCaller, roomleCallerOf } from './roomle-auth.ts';
import { roomleOk } from './roomle-http.ts';
import { resolveTenant } from './roomle-tenants.service.ts';

const RIGHT = 'user_management';

/** A user connected to the tenant. Who has not accepted (consented) shows only id, email and rolesInTenant. */
const RoomleUser = Type.Object({
  id: Type.String({ description: 'The user id (the membership id while the invitation is pending)' }),
  email: Type.String(),
  rolesInTenant: Type.Array(Type.String()),
  login: Type.Optional(Type.String()),
  name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  language: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  rights: Type.Optional(Type.Array(Type.String(), { description: 'Everything the roles and direct permissions give' })),
  invitation: Type.Optional(
    Type.Object({
      token: Type.String({ description: 'Shown once: send it to the person' }),
      expiresAt: Type.String({ format: 'date-time' }),
    }),
  ),
});
type UserView = Static<typeof RoomleUser>;

// Only email and roles are used from the user object, as Roomle documents; the rest is ignored.
const UserInput = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }), roles: Type.Optional(RoleList) },
  { additionalProperties: true },
);
const UserContainer = Type.Object(
  {
    user: Type.Optional(UserInput),
    users: Type.Optional(Type.Array(UserInput, { minItems: 1, maxItems: 100, description: 'Batch upload (deprecated in Roomle)' })),
  },
  { additionalProperties: false },
);
const RoleUpdate = Type.Object(
  { user: Type.Object({ email: Type.Optional(Type.String({ maxLength: 254 })), roles: RoleList }, { additionalProperties: true }) },
  { additionalProperties: false },
);
const UserParams = Type.Object({ ...IdParams.properties, userId: Type.String({ maxLength: 64 }) });
const Connection = Type.Object({
  id: Type.String({ description: 'The membership' }),
  user: Type.Union([Type.String(), Type.Null()], { description: 'The user id; null while invited' }),
  email: Type.String(),
  tenant: Type.Integer(),
  roles: Type.Array(Type.String()),
  status: Type.String(),
});

function userView(record: MembershipRecord, rights: string[]): UserView {
  const base = { id: record.user_id ?? record.id, email: record.user_email ?? record.invited_email ?? '', rolesInTenant: record.roles };
  // Accepting the invitation is the person's consent to share their profile with the tenant.
  if (record.status !== 'active') return base;
  return { ...base, login: record.login, name: record.full_name, language: record.default_language, rights };
}

async function allMemberships(db: Db, tenantId: string): Promise<MembershipRecord[]> {
  const out: MembershipRecord[] = [];
  for (let afterId: string | undefined; ; ) {
    const page = await memberships.findMemberships(db, tenantId, { afterId, limit: 500 });
    out.push(...page.slice(0, 500));
    if (page.length <= 500) return out;
    afterId = page[499]?.id;
  }
}

/** A user or connection may grant only what it holds (operators anything the product defines). */
async function assertMayGrant(
  db: Db,
  who: RoomleCaller,
  productId: string,
  grant: { roles: string[]; permissions: string[] },
  what: 'grant' | 'existing',
) {
  if (who.via === 'operator') return;
  const model = await loadAccessModel(db, productId);
  assertWithin(model, who.rights as ReadonlySet<string>, grant, what);
}

function underUser(error: unknown, prefix: string): unknown {
  if (!(error instanceof AppError)) return error;
  const [first, ...more] = error.items;
  if (!first?.parameter) return error;
  return new AppError(first.code, {
    message: first.message,
    parameter: `${prefix}.${first.parameter}`,
    more: more.map((item) => ({ ...item, parameter: item.parameter && `${prefix}.${item.parameter}` })),
  });
}

/** `/v2/tenants/{id}/users/` and `/roles/`: the tenant's users over the native memberships. */
export function registerRoomlePeopleRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.get(
    '/v2/tenants/:id/users',
    {
      schema: {
        tags,
        summary: 'The users connected to the tenant',
        description:
          'User management rights, current tenant only. Users who have not accepted their invitation show only id, email and rolesInTenant.',
        params: IdParams,
        response: { 200: wrapped('users', Type.Array(RoomleUser)), ...roomleErrors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const tenant = await resolveTenant(db, who, request.params.id, RIGHT);
      const model = await loadAccessModel(db, tenant.product_id);
      const rows = await allMemberships(db, tenant.id);
      const users = rows.map((row) => userView(row, effectivePermissions(model, row)));
      return roomleOk(deps.clock, 'users', users, users.length);
    },
  );

  app.post(
    '/v2/tenants/:id/users',
    {
      schema: {
        tags,
        summary: 'Connect users to the tenant',
        description:
          'User management rights, current tenant only. Only email and roles are used. A known e-mail joins at once; an unknown one is invited (the invitation token is in the answer, once). A caller may grant only rights it holds.',
        params: IdParams,
        body: UserContainer,
        response: { 201: wrapped('users', Type.Array(RoomleUser)), ...roomleErrors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const who = roomleCallerOf(request);
      const { user, users } = request.body;
      const inputs = users ?? (user ? [user] : []);
      if (inputs.length === 0 || (user && users))
        throw new AppError('request.invalid', { message: 'Send "user" (or, deprecated, "users")', parameter: 'user' });
      const created = await db.transaction().execute(async (tx) => {
        const tenant = await resolveTenant(tx, who, request.params.id, RIGHT);
        const native = nativeCaller(who, tenant.product_id);
        const out: UserView[] = [];
        for (const [index, input] of inputs.entries()) {
          const prefix = users ? `users.${index}` : 'user';
          const roles = input.roles ?? ['member'];
          try {
            await assertMayGrant(tx, who, tenant.product_id, { roles, permissions: [] }, 'grant');
            const view = await addMembership(tx, deps, native, tenant.id, { email: input.email, roles }, { onUnknownEmail: 'invite' });
            const record = await memberships.findMembershipById(tx, view.id);
            if (!record) throw new Error('membership vanished inside its own transaction');
            out.push({ ...userView(record, view.effectivePermissions), ...(view.invitation && { invitation: view.invitation }) });
          } catch (error) {
            throw underUser(error, prefix);
          }
        }
        return out;
      });
      return reply.code(201).send(roomleOk(deps.clock, 'users', created, created.length));
    },
  );

  app.put(
    '/v2/tenants/:id/users/:userId',
    {
      schema: {
        tags,
        summary: 'Change a user’s roles in the tenant',
        description:
          'User management rights, current tenant only. Only roles are used. A caller may not change someone who holds more than it does.',
        params: UserParams,
        body: RoleUpdate,
        response: { 200: wrapped('user', RoomleUser), ...roomleErrors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const view = await db.transaction().execute(async (tx) => {
        const tenant = await resolveTenant(tx, who, request.params.id, RIGHT);
        const current = (await allMemberships(tx, tenant.id)).find(
          (row) => row.user_id === request.params.userId || row.id === request.params.userId,
        );
        if (!current) throw new AppError('membership.not_found', { message: 'No such user in the tenant', parameter: 'userId' });
        const roles = request.body.user.roles;
        try {
          await assertMayGrant(tx, who, tenant.product_id, current, 'existing');
          await assertMayGrant(tx, who, tenant.product_id, { roles, permissions: current.permissions }, 'grant');
          const changed = await changeMembership(
            tx,
            deps,
            nativeCaller(who, tenant.product_id),
            tenant.id,
            current.login,
            { roles },
            undefined,
          );
          return userView(changed.record, changed.view.effectivePermissions);
        } catch (error) {
          throw underUser(error, 'user');
        }
      });
      return roomleOk(deps.clock, 'user', view);
    },
  );

  app.get(
    '/v2/tenants/:id/roles',
    {
      schema: {
        tags,
        summary: 'The user ↔ tenant connections',
        description: 'User management rights, current tenant only.',
        params: IdParams,
        response: { 200: wrapped('roles', Type.Array(Connection)), ...roomleErrors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const tenant = await resolveTenant(db, who, request.params.id, RIGHT);
      const rows = await allMemberships(db, tenant.id);
      const roles = rows.map((row) => ({
        id: row.id,
        user: row.user_id,
        email: row.user_email ?? row.invited_email ?? '',
        tenant: Number(tenant.number),
        roles: row.roles,
        status: row.status,
      }));
      return roomleOk(deps.clock, 'roles', roles, roles.length);
    },
  );
}
