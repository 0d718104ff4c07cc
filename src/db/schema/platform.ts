import type { Generated } from 'kysely';
import type { Json, Timestamp } from './columns.ts';

/** Table types: Landlord's own tables: secrets, signing keys, nodes, the audit log, idempotency records. */

export interface LandlordSecretsTable {
  name: string;
  value: Buffer;
  created_at: Timestamp;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_key: Buffer;
  public_jwk: Json<Record<string, unknown>>;
  created_at: Timestamp;
  retired_at: Date | null;
}

export interface LandlordNodesTable {
  id: string;
  worker_pool_id: string | null;
  role: string;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  actor_type: string;
  actor_id: string;
  action: string;
  object_type: string;
  object_id: string;
  product_id: string | null;
  before: Json | null;
  after: Json | null;
  request_id: string | null;
}

export interface IdempotencyKeysTable {
  credential: string;
  key: string;
  request_hash: Buffer;
  response_status: number | null;
  response_body: Buffer | null;
  created_at: Timestamp;
}
