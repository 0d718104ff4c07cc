import type { ColumnType, Generated } from 'kysely';
import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: The event log and webhook deliveries. */

export interface EventsTable {
  id: string;
  type: string;
  product_id: string | null;
  tenant_id: string | null;
  tenant_seq: number | null;
  occurred_at: Timestamp;
  data: Json<Record<string, unknown>>;
}

/** A sequenced event's place in the feed (0024_event_feed.sql): written by the sequencer, once. */
export interface EventFeedTable {
  position: number;
  event_id: string;
  product_id: string | null;
  tenant_id: string | null;
  type: string;
}

/** An event not yet sequenced; every insert into `events` queues its rows here (a statement trigger). */
export interface EventsPendingTable {
  id: string;
  type: string;
  product_id: string | null;
  tenant_id: string | null;
  /** The endpoint a `webhook_endpoint.test` event is for. */
  target: string | null;
}

export interface WebhookEndpointsTable {
  id: string;
  product_id: string | null;
  url: string;
  description: Defaulted<string>;
  event_types: ColumnType<string[], string[] | undefined, string[]>;
  enabled: Defaulted<boolean>;
  disabled_reason: string | null;
  ordered: Defaulted<boolean>;
  max_concurrency: Defaulted<number>;
  secret_encrypted: Buffer;
  previous_secret_encrypted: Buffer | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
  /** Only this tenant's events (the Roomle API's `webhook`, 0016_roomle.sql); null: every tenant's. */
  tenant_id: Defaulted<string | null>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  seq: Generated<number>;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  event_position: number;
  tenant_id: string | null;
  status: ColumnType<
    'pending' | 'delivered' | 'failed',
    'pending' | 'delivered' | 'failed' | undefined,
    'pending' | 'delivered' | 'failed'
  >;
  attempts: Defaulted<number>;
  next_attempt_at: Timestamp;
  lease_until: Date | null;
  leased_by: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: Date | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  at: Timestamp;
  request_headers: Json<Record<string, string>>;
  response_status: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
}
