import fc from 'fast-check';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb, createPool } from './database.ts';
import { parseIsoTimestamptz, timestamptzParser } from './timestamptz.ts';

const pgParser = pg.types.getTypeParser(1184, 'text') as (text: string) => Date | number | null;
const parse = timestamptzParser(pgParser);
const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** An instant as PostgreSQL writes it with DateStyle ISO in a zone `offsetSeconds` east of UTC. */
function asPostgresWrites(epochMs: number, micros: number, offsetSeconds: number): string {
  const local = new Date(epochMs + offsetSeconds * 1000);
  const fraction = micros === 0 ? '' : `.${pad(micros, 6).replace(/0+$/, '')}`;
  const abs = Math.abs(offsetSeconds);
  const [h, m, s] = [Math.floor(abs / 3600), Math.floor((abs % 3600) / 60), abs % 60];
  const offset = `${offsetSeconds < 0 ? '-' : '+'}${pad(h)}${m || s ? `:${pad(m)}` : ''}${s ? `:${pad(s)}` : ''}`;
  return `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(
    local.getUTCMinutes(),
  )}:${pad(local.getUTCSeconds())}${fraction}${offset}`;
}

describe('timestamptz text to a Date', () => {
  it('gives the instant PostgreSQL wrote, to the millisecond, for any instant, fraction and offset', () => {
    fc.assert(
      fc.property(
        // Whole seconds from the year 100 to 9999, a microsecond fraction, an offset of up to ±15:59:59.
        fc.integer({ min: -59_011_459_200, max: 253_402_300_799 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: -57_599, max: 57_599 }),
        (seconds, micros, offsetSeconds) => {
          const text = asPostgresWrites(seconds * 1000, micros, offsetSeconds);
          // The year may have left 100–9999 once shifted into the zone: then the fallback answers.
          const expected = seconds * 1000 + Math.floor(micros / 1000);
          expect(parse(text)).toEqual(new Date(expected));
          expect((pgParser(text) as Date).getTime()).toBe(expected);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('reads the shapes of the edges: no fraction, one digit of it, whole-hour and half-hour offsets, a leap day', () => {
    expect(parse('2024-02-29 23:59:59+00')).toEqual(new Date('2024-02-29T23:59:59.000Z'));
    expect(parse('2024-02-29 23:59:59.5+00')).toEqual(new Date('2024-02-29T23:59:59.500Z'));
    expect(parse('2024-03-01 05:29:59.999999+05:30')).toEqual(new Date('2024-02-29T23:59:59.999Z'));
    expect(parse('2026-12-31 20:15:00.12-03:45')).toEqual(new Date('2027-01-01T00:00:00.120Z'));
    expect(parse('1883-11-18 12:03:58-04:56:02')).toEqual(new Date('1883-11-18T17:00:00.000Z'));
  });

  it('leaves what is not of the common shape to pg’s parser, which reads it the same way it always did', () => {
    for (const text of ['infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '10000-01-01 00:00:00+00', '0099-01-01 00:00:00+00']) {
      expect(parseIsoTimestamptz(text)).toBeUndefined();
      expect(parse(text)).toEqual(pgParser(text));
    }
    for (const text of ['2026-12-08 01:02:03', '2026-12-08 01:02:03.+00', '2026-12-08T01:02:03+00', '2026-12-08 01:02:03+0x']) {
      expect(parseIsoTimestamptz(text)).toBeUndefined();
    }
  });
});

describe('timestamptz from a real PostgreSQL server', () => {
  const db = createDb(createPool(inject('adminUrl'), 1));
  afterAll(() => db.destroy());

  it('reads every instant as the server counts it, in zones with whole-hour, half-hour and historic offsets', async () => {
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Australia/Lord_Howe', 'Europe/Amsterdam', 'Pacific/Kiritimati']) {
      await sql`select set_config('TimeZone', ${zone}, false)`.execute(db);
      // An instant every 3 days 7 h 13 min from 1900 to 2100, with microsecond fractions: every hour of the day, across
      // two centuries of each zone's rules (its DST and its changes of standard offset).
      const { rows } = await sql<{ at: Date; ms: number; text: string }>`
        select t as at, floor(extract(epoch from t) * 1000)::float8 as ms, t::text as text
        from generate_series('1900-01-01 00:00:00.123456+00'::timestamptz, '2100-01-01'::timestamptz, interval '3 days 7 hours 13 minutes 0.000777 seconds') as t`.execute(
        db,
      );
      expect(rows.length).toBeGreaterThan(20_000);
      for (const row of rows) expect(row.at.getTime(), `${zone}: ${row.text}`).toBe(row.ms);
    }
  });
});
