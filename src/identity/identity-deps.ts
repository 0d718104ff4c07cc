import type { Config } from '../config/config.ts';
import { secureCookiesFor } from '../http/cookies.ts';
import type { Clock } from '../platform/clock.ts';
import type { SessionPolicy } from '../sessions/session-store.ts';

/** What the identity features need beyond the database. */
export interface IdentityDeps {
  clock: Clock;
  /** Where browsers reach Landlord: `LANDLORD_PUBLIC_URL`, or the address the node listens on. */
  baseUrl: () => string;
  /** Tenant users' Landlord sessions. */
  sessions: SessionPolicy;
  /** The cookie of the pre-session CSRF secret (the sign-in form). */
  csrfCookie: SessionPolicy['cookie'];
}

/** Tenant users' sessions: `SameSite=Lax` (a relying party's redirect back carries the cookie), Secure behind https. */
export function userSessionPolicy(config: Config): SessionPolicy {
  return {
    kind: 'user',
    cookie: { name: 'landlord_session', sameSite: 'lax', secure: secureCookiesFor(config.publicUrl) },
    idleSeconds: config.sessionIdleMinutes * 60,
    absoluteSeconds: config.sessionMaxHours * 3600,
  };
}

/** Builds the identity dependencies from the configuration. */
export function identityDeps(config: Config, clock: Clock, baseUrl: () => string): IdentityDeps {
  const sessions = userSessionPolicy(config);
  return {
    clock,
    baseUrl,
    sessions,
    csrfCookie: { name: 'landlord_csrf', sameSite: 'lax', secure: sessions.cookie.secure },
  };
}
