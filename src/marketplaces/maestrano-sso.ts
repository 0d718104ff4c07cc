import type { Db } from '../db/database.ts';
import type { SignedInIdentity } from '../identity/tenant-context.ts';
import type { SamlAudience, SamlIdp } from '../saml/saml-sso.ts';
import { NAME_ID_FORMATS, type SamlAttribute } from '../saml/saml-xml.ts';
import type { Session } from '../sessions/session-store.ts';
import { groupQuery } from './groups.repo.ts';
import { groupUid, maestranoTime, marketplaceCertificateOwner, userUid } from './maestrano-format.ts';
import type { MarketplaceRow } from './marketplaces.service.ts';

/** How long the app may trust a session before re-checking it (the hub answered 3 minutes). */
export const RECHECK_MS = 3 * 60_000;

/** Landlord as a marketplace's identity provider: the entity id is `sso.idp`, the certificate the marketplace's own. */
export function marketplaceIdp(baseUrl: string, marketplace: MarketplaceRow): SamlIdp {
  return {
    entityId: baseUrl,
    certificateOwner: marketplaceCertificateOwner(marketplace.id),
    certificateName: `${marketplace.name} SAML IdP`,
  };
}

/** The marketplace's app as a service provider: its `api.id` is its entity id, its ACS `sso.idm + sso.consume_path`. */
export function marketplaceAudience(marketplace: MarketplaceRow): SamlAudience {
  const sso = marketplace.sso;
  return {
    id: marketplace.id,
    owner: 'marketplace',
    entityId: marketplace.api_id,
    acsUrl: `${String(sso.idm).replace(/\/+$/, '')}${sso.consume_path}`,
    signResponse: false,
  };
}

/** What the Maestrano attributes say about the signed-in member, read before the assertion is built. */
export interface MemberFacts {
  userNumber: number;
  name: string;
  surname: string;
  country: string | null;
  role: string;
  group: NonNullable<Awaited<ReturnType<ReturnType<typeof groupQuery>['executeTakeFirst']>>>;
}

/** The member behind a membership if the membership is in one of the marketplace's undeleted groups; undefined otherwise. */
export async function memberFacts(db: Db, marketplaceId: string, membershipId: string): Promise<MemberFacts | undefined> {
  const member = await db
    .selectFrom('memberships')
    .innerJoin('marketplace_groups as g', 'g.tenant_id', 'memberships.tenant_id')
    .innerJoin('marketplace_users as mu', 'mu.user_id', 'memberships.user_id')
    .leftJoin('marketplace_members as mm', 'mm.membership_id', 'memberships.id')
    .select(['g.tenant_id', 'mu.number', 'mu.name', 'mu.surname', 'mu.country', 'mm.role'])
    .where('memberships.id', '=', membershipId)
    .where('g.marketplace_id', '=', marketplaceId)
    .where('g.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!member) return undefined;
  const group = await groupQuery(db).where('g.tenant_id', '=', member.tenant_id).executeTakeFirst();
  if (!group) return undefined;
  return {
    userNumber: member.number,
    name: member.name,
    surname: member.surname,
    country: member.country,
    role: member.role ?? 'Member',
    group,
  };
}

/**
 * The NameID (persistent: the user's `usr-…` uid) and the attributes Maestrano's SDKs read.
 * `mno_session_recheck` and `group_end_free_trial` are always ISO 8601 (the Ruby SDK fails on
 * anything else): a group without a trial ended it when it was created.
 */
export function maestranoAssertion(facts: MemberFacts, host: string, now: Date) {
  return (identity: SignedInIdentity, session: Session): { nameId: { value: string; format: string }; attributes: SamlAttribute[] } => {
    const uid = userUid(facts.userNumber);
    const group = facts.group;
    const gid = groupUid(group.number);
    const values: Record<string, string> = {
      uid,
      virtual_uid: `${uid}.${gid}`,
      email: identity.user.email,
      virtual_email: `${uid}.${gid}@${host}`,
      name: facts.name,
      surname: facts.surname,
      country: facts.country ?? '',
      company_name: group.display_name,
      group_uid: gid,
      group_name: group.display_name,
      group_role: facts.role,
      group_end_free_trial: maestranoTime(group.free_trial_end_at ? new Date(group.free_trial_end_at) : group.created_at),
      group_has_credit_card: String(group.has_credit_card),
      group_email: group.email ?? '',
      group_currency: group.currency,
      group_timezone: group.timezone,
      group_country: group.country ?? '',
      group_city: group.city ?? '',
      mno_session: session.id,
      mno_session_recheck: maestranoTime(new Date(now.getTime() + RECHECK_MS)),
    };
    return {
      nameId: { value: uid, format: NAME_ID_FORMATS.persistent },
      attributes: Object.entries(values).map(([name, value]) => ({ name, values: [value] })),
    };
  };
}
