/** An amount in minor units as operators read it: `123.45 EUR` (the currency's own decimals, from Intl). */
export function money(minor: number, currency: string): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // An unknown code still shows, with two decimals.
  }
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
}
