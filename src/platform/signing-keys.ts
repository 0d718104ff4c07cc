import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  type JWK,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
  SignJWT,
} from 'jose';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Clock } from './clock.ts';
import type { SecretBox } from './secret-box.ts';

const ALG = 'EdDSA';
/**
 * Every algorithm the ring keeps a key of. Landlord's own tokens are EdDSA; RS256 is there
 * because it is the one algorithm every OpenID Connect relying party must accept (ID tokens),
 * ES256 for the relying parties that take an ID token signed in a tenth of RS256's time but
 * not EdDSA.
 */
export const RING_ALGORITHMS = ['EdDSA', 'RS256', 'ES256'] as const;
/** An algorithm the ring signs with. */
export type RingAlgorithm = (typeof RING_ALGORITHMS)[number];
/** The key each algorithm's keys are made as (ES256: P-256, jose's only curve for it). */
const KEY_SHAPES: Record<RingAlgorithm, { crv?: string; modulusLength?: number }> = {
  EdDSA: { crv: 'Ed25519' },
  RS256: { modulusLength: 2048 },
  ES256: {},
};
const ISSUER = 'landlord';
// Any fixed number; serialises "generate the first key" across nodes.
const KEYGEN_LOCK = 7_305_002;

/** Landlord's signing keys: signs the tokens and assertions it issues, verifies its own. */
export interface KeyRing {
  sign(claims: JWTPayload, options: { subject: string; audience: string; expiresInSeconds: number }): Promise<string>;
  /** Verifies a token Landlord issued for `audience`; throws when it is not valid. */
  verify(token: string, audience: string): Promise<JWTPayload>;
  /**
   * Verifies a JWT signed with any key of the ring (either algorithm) for another issuer
   * name (the OpenID Connect provider's URL) and `audience`, of JWT type `typ` when given.
   */
  verifyIssued(token: string, expected: { issuer: string; audience: string; typ?: string }): Promise<JWTPayload>;
  /** The public keys, as served at `/.well-known/jwks.json`. */
  jwks(): { keys: JWK[] };
  /**
   * The private keys as JWKs, newest first within each algorithm (the first of each signs),
   * for a signer that takes a key set (the OpenID Connect provider). Never published.
   */
  privateJwks(): Promise<JWK[]>;
  /** Calls `listener` after every reload, so a signer holding {@link privateJwks} takes the new set. */
  onReload(listener: () => void): void;
  /**
   * Reads the keys again, so a key added by {@link rotateSigningKey} signs from now on.
   * Keys already issued keep verifying: every unretired key stays in the set.
   */
  reload(): Promise<void>;
}

type PrivateKey = Awaited<ReturnType<typeof importPKCS8>>;

interface LoadedKey {
  kid: string;
  alg: RingAlgorithm;
  privateKey: PrivateKey;
  publicJwk: JWK;
}

/**
 * Loads the signing keys from the database, generating the first key of each algorithm
 * (Ed25519, RSA 2048, P-256) on first start, or when an algorithm joins the ring. The
 * newest unretired key of an algorithm signs; every unretired key verifies, so a rotation
 * never breaks tokens already issued.
 */
export async function loadKeyRing(db: Db, box: SecretBox, clock: Clock): Promise<KeyRing> {
  let keys = await readKeys(db, box);
  if (RING_ALGORITHMS.some((alg) => !keys.some((key) => key.alg === alg))) {
    await db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${KEYGEN_LOCK})`.execute(tx);
      const existing = await tx.selectFrom('signing_keys').select('alg').where('retired_at', 'is', null).execute();
      for (const alg of RING_ALGORITHMS) if (!existing.some((row) => row.alg === alg)) await insertNewKey(tx, box, alg);
    });
    keys = await readKeys(db, box);
  }
  const listeners: Array<() => void> = [];
  let jwks = createLocalJWKSet({ keys: keys.map((key) => key.publicJwk) });
  let lastReload = 0;

  async function reloadIfStale(): Promise<boolean> {
    // A token signed by a key another node just created: reload, at most once a second.
    if (Date.now() - lastReload < 1000) return false;
    lastReload = Date.now();
    keys = await readKeys(db, box);
    jwks = createLocalJWKSet({ keys: keys.map((key) => key.publicJwk) });
    return true;
  }

  async function verifyWith(token: string, options: JWTVerifyOptions): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, jwks, options)).payload;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY' && (await reloadIfStale())) {
        return (await jwtVerify(token, jwks, options)).payload;
      }
      throw error;
    }
  }

  return {
    async sign(claims, { subject, audience, expiresInSeconds }) {
      const current = keys.find((key) => key.alg === ALG);
      if (!current) throw new Error('no signing key');
      const now = Math.floor(clock.now().getTime() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, kid: current.kid, typ: 'JWT' })
        .setIssuer(ISSUER)
        .setSubject(subject)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresInSeconds)
        .setJti(randomUUID())
        .sign(current.privateKey);
    },
    verify(token, audience) {
      return verifyWith(token, { issuer: ISSUER, audience, algorithms: [ALG], currentDate: clock.now() });
    },
    verifyIssued(token, expected) {
      return verifyWith(token, { ...expected, algorithms: [...RING_ALGORITHMS], currentDate: clock.now() });
    },
    jwks: () => ({ keys: keys.map((key) => key.publicJwk) }),
    privateJwks: () =>
      Promise.all(keys.map(async (key) => ({ ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg, use: 'sig' }))),
    onReload(listener) {
      listeners.push(listener);
    },
    async reload() {
      const fresh = await readKeys(db, box);
      // Swapped together, so no token is signed with a key the published set lacks.
      jwks = createLocalJWKSet({ keys: fresh.map((key) => key.publicJwk) });
      keys = fresh;
      lastReload = Date.now();
      for (const listener of listeners) listener();
    },
  };
}

async function insertNewKey(db: Db, box: SecretBox, alg: RingAlgorithm): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { ...KEY_SHAPES[alg], extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  await db
    .insertInto('signing_keys')
    .values({ kid, alg, private_key: box.seal(await exportPKCS8(privateKey)), public_jwk: JSON.stringify(publicJwk) })
    .execute();
}

/** NOTIFY channel of key rotations: every node reloads its ring on it (see `main.ts`). */
export const SIGNING_KEYS_CHANNEL = 'landlord_signing_keys';

/**
 * Adds a new signing key of every algorithm, which sign from now on; older keys keep
 * verifying until retired. Every node hears of it on {@link SIGNING_KEYS_CHANNEL} and
 * reloads, so each signs with the new keys and publishes them in its JWKS.
 */
export async function rotateSigningKey(db: Db, box: SecretBox): Promise<void> {
  for (const alg of RING_ALGORITHMS) await insertNewKey(db, box, alg);
  await sql`select pg_notify(${SIGNING_KEYS_CHANNEL}, '')`.execute(db);
}

async function readKeys(db: Db, box: SecretBox): Promise<LoadedKey[]> {
  const rows = await db
    .selectFrom('signing_keys')
    .select(['kid', 'alg', 'private_key', 'public_jwk'])
    .where('retired_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
  return Promise.all(
    rows.map(async (row) => ({
      kid: row.kid,
      alg: row.alg as RingAlgorithm,
      privateKey: await importPKCS8(box.open(row.private_key), row.alg, { extractable: true }),
      publicJwk: row.public_jwk as JWK,
    })),
  );
}
