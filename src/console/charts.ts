import { html, type SafeHtml } from '../http/html.ts';

/** One bucket of a chart: its start, and a value (null: no data in it). */
export interface Point {
  at: Date;
  value: number | null;
}

/**
 * A bar chart drawn on the server as SVG: no script, no inline style (the CSP allows
 * neither), presentation attributes only. Labelled for screen readers by `title`, with
 * a text summary beside it so the numbers never live only in the picture.
 */
export function barChart(input: { title: string; points: Point[]; max: number; unit: string; tone?: (value: number) => string }): SafeHtml {
  const width = 600;
  const height = 120;
  const gap = 1;
  const count = Math.max(1, input.points.length);
  const barWidth = Math.max(1, width / count - gap);
  const max = input.max > 0 ? input.max : 1;
  const bars = input.points.map((point, index) => {
    const x = (index * width) / count;
    if (point.value === null)
      return html`<rect x="${x.toFixed(1)}" y="${height - 2}" width="${barWidth.toFixed(1)}" height="2" fill="#d0d0d7"></rect>`;
    const barHeight = Math.max(1, (Math.min(point.value, max) / max) * (height - 4));
    const fill = input.tone ? input.tone(point.value) : '#1a5fd0';
    return html`<rect x="${x.toFixed(1)}" y="${(height - barHeight).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${fill}"><title>${point.at.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${format(point.value)} ${input.unit}</title></rect>`;
  });
  const known = input.points.filter((point) => point.value !== null).map((point) => point.value as number);
  const summary = known.length
    ? `${input.title}: from ${format(Math.min(...known))} to ${format(Math.max(...known))} ${input.unit} over ${known.length} of ${input.points.length} periods with data.`
    : `${input.title}: no data in this period.`;
  return html`<figure><svg class="chart" role="img" aria-label="${summary}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="${width}" height="${height}" fill="#f5f6f8"></rect>${bars}</svg><figcaption class="muted">${summary}</figcaption></figure>`;
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** Groups hourly rows into `buckets` equal periods ending with the current hour. */
export function bucketize<T extends { hour: Date }>(
  rows: T[],
  now: Date,
  hours: number,
  buckets: number,
  measure: (rows: T[]) => number | null,
): Point[] {
  const hourMs = 3_600_000;
  const end = Math.floor(now.getTime() / hourMs) * hourMs + hourMs;
  const size = (hours * hourMs) / buckets;
  const start = end - hours * hourMs;
  const groups: T[][] = Array.from({ length: buckets }, () => []);
  for (const row of rows) {
    const index = Math.floor((row.hour.getTime() - start) / size);
    if (index >= 0 && index < buckets) groups[index]?.push(row);
  }
  return groups.map((group, index) => ({ at: new Date(start + index * size), value: group.length ? measure(group) : null }));
}
