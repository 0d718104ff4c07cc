import type { Timestamp } from './columns.ts';

/** Table types: the admin console — one-time sign-in links. */

export interface ConsoleLinksTable {
  id: string;
  token_hash: Buffer;
  /** `root` or `key:<api key id>`. */
  subject_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Date | null;
}
