import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Db } from '../db/database.ts';

/** Encrypts the secrets Landlord must be able to read back (a product's api key). */
export interface SecretBox {
  seal(plaintext: string): Buffer;
  open(sealed: Buffer): string;
}

// Secrets a node opened lately, by their sealed bytes: a hot read (a Roomle tenant with its apiKey) opens the same
// secret on every request, and a decipher costs more than the rest of that answer's view. Sealed bytes never
// change meaning (a nonce is never reused), so an entry cannot go stale; the bound keeps memory small.
const OPENED_BOUND = 1000;

/** AES-256-GCM: 12-byte nonce, 16-byte tag, then the ciphertext. */
export function createSecretBox(key: Buffer): SecretBox {
  const opened = new Map<string, string>();
  const decrypt = (sealed: Buffer) => {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  };
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    open(sealed) {
      const id = sealed.toString('base64');
      let plaintext = opened.get(id);
      if (plaintext === undefined) {
        plaintext = decrypt(sealed);
        if (opened.size >= OPENED_BOUND) opened.clear();
        opened.set(id, plaintext);
      }
      return plaintext;
    },
  };
}

/**
 * The data-encryption key: `LANDLORD_ENCRYPTION_KEY` when set, otherwise one key
 * generated on first start and kept in the database, so that every node on the
 * database shares it. (Set the variable to keep the key out of database backups.)
 */
export async function loadEncryptionKey(db: Db, configured: Buffer | undefined): Promise<Buffer> {
  if (configured) return configured;
  await db
    .insertInto('landlord_secrets')
    .values({ name: 'encryption_key', value: randomBytes(32) })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('landlord_secrets').select('value').where('name', '=', 'encryption_key').executeTakeFirstOrThrow();
  return row.value;
}
