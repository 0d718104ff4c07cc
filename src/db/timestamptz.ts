/**
 * timestamptz text as PostgreSQL sends it (`DateStyle` ISO) to a `Date`, without pg's general parser on the common
 * shape: `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`. pg's (`postgres-date`) runs two regular expressions and makes
 * a dozen strings per value; a claimed renewal batch parses twelve of these per row (measured: 0.52 against 0.11 µs
 * a value). Anything else — `infinity`, BC dates, years past 9999, another `DateStyle` — goes to pg's parser, so
 * both give the same instant for every input (`timestamptz.test.ts`).
 */

const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** The two-digit number at `at`, or NaN. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - DIGIT_0;
  const ones = text.charCodeAt(at + 1) - DIGIT_0;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : Number.NaN;
}

/**
 * The instant `text` names, or undefined when it is not of the common shape (the caller falls back). A fraction
 * finer than a millisecond is truncated, as a `Date` holds milliseconds.
 */
export function parseIsoTimestamptz(text: string): Date | undefined {
  const length = text.length;
  if (length < 22 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32) return undefined;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  let at = 19;
  let millis = 0;
  if (text.charCodeAt(at) === 46) {
    at += 1;
    const start = at;
    for (let code = text.charCodeAt(at); code >= DIGIT_0 && code <= DIGIT_9; code = text.charCodeAt(at)) {
      if (at - start < 3) millis = millis * 10 + (code - DIGIT_0);
      at += 1;
    }
    const digits = at - start;
    if (digits === 0) return undefined;
    if (digits < 3) millis *= digits === 1 ? 100 : 10;
  }
  const sign = text.charCodeAt(at);
  if (sign !== 43 && sign !== 45) return undefined;
  // The offset: ±HH, ±HH:MM or ±HH:MM:SS (historic zones' local mean time has seconds).
  let offsetSeconds = twoDigits(text, at + 1) * 3600;
  at += 3;
  if (at < length) {
    if (text.charCodeAt(at) !== 58) return undefined;
    offsetSeconds += twoDigits(text, at + 1) * 60;
    at += 3;
  }
  if (at < length) {
    if (text.charCodeAt(at) !== 58) return undefined;
    offsetSeconds += twoDigits(text, at + 1);
    at += 3;
  }
  if (at !== length) return undefined;
  // Date.UTC reads years 0–99 as 1900–1999: those go to the fallback with everything unusual.
  if (year < 100) return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - (sign === 43 ? 1 : -1) * offsetSeconds * 1000;
  return Number.isNaN(utc) ? undefined : new Date(utc);
}

/** A pg type parser for timestamptz: the common shape here, the rest by pg's own `fallback`. */
export function timestamptzParser(fallback: (text: string) => unknown): (text: string) => unknown {
  return (text) => parseIsoTimestamptz(text) ?? fallback(text);
}
