import { argon2id, hash, verify } from 'argon2';

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane (about 40 ms here). Parameters live
// in each PHC string, so raising them later leaves stored hashes verifiable.
const OPTIONS = { type: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** The shortest and longest password accepted (NIST SP 800-63B: length, not composition rules). */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

/** An argon2id PHC string of the password, with a fresh salt. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

/**
 * Checks a password against a stored hash. With no hash (an unknown e-mail) it still
 * verifies against a dummy hash, so both answers take the same time.
 */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  if (stored === undefined) {
    dummy ??= hashPassword('landlord-dummy-password');
    await verify(await dummy, password);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** Why a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, email: string): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  if (password.toLowerCase() === email.toLowerCase()) return 'Do not use your e-mail address as your password.';
  return undefined;
}
