/**
 * A horizontal bar chart as inline SVG: one labelled bar per category, longest first, the value written at the
 * end of its bar and a light scale behind. Nothing external: no fonts, scripts or images.
 */

export interface Bar {
  label: string;
  value: number;
  /** A second line under the label, e.g. "43 vehicles". */
  note?: string;
}

export interface BarChartOptions {
  title: string;
  /** How a value is written on its bar, e.g. 40.83 → "40.8 s". */
  format: (value: number) => string;
  /** How the scale's round numbers are written, e.g. 10 → "10 s". */
  tickFormat: (value: number) => string;
}

const WIDTH = 760;
const LABEL_WIDTH = 150;
const VALUE_WIDTH = 90;
const ROW = 46;
const BAR = 26;
const TOP = 8;
const AXIS = 30;

export function barChartSvg(bars: readonly Bar[], options: BarChartOptions): string {
  const sorted = [...bars].sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  const max = niceCeiling(Math.max(0, ...sorted.map((b) => b.value)));
  const plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const x = (value: number) => LABEL_WIDTH + (max === 0 ? 0 : (value / max) * plot);
  const height = TOP + sorted.length * ROW + AXIS;
  const ticks = tickValues(max);
  const grid = ticks
    .map((t) => {
      const at = x(t).toFixed(1);
      return (
        `<line class="grid" x1="${at}" x2="${at}" y1="${TOP}" y2="${height - AXIS + 4}"/>` +
        `<text class="tick" x="${at}" y="${height - 10}" text-anchor="middle">${escapeXml(options.tickFormat(t))}</text>`
      );
    })
    .join('');
  const rows = sorted
    .map((bar, i) => {
      const y = TOP + i * ROW + (ROW - BAR) / 2;
      const end = x(bar.value);
      const label = escapeXml(bar.label);
      const value = escapeXml(options.format(bar.value));
      const note = bar.note === undefined ? '' : escapeXml(bar.note);
      return (
        `<g class="row">` +
        `<text class="label" x="${LABEL_WIDTH - 12}" y="${y + (note ? 11 : 18)}" text-anchor="end">${label}</text>` +
        (note
          ? `<text class="note" x="${LABEL_WIDTH - 12}" y="${y + 25}" text-anchor="end">${note}</text>`
          : '') +
        `<rect class="bar" data-label="${label}" data-value="${bar.value}" x="${LABEL_WIDTH}" y="${y}" ` +
        `width="${Math.max(1, end - LABEL_WIDTH).toFixed(1)}" height="${BAR}" rx="3">` +
        `<title>${label}: ${value}${note ? ` (${note})` : ''}</title></rect>` +
        `<text class="value" x="${(end + 8).toFixed(1)}" y="${y + 18}">${value}</text>` +
        `</g>`
      );
    })
    .join('');
  const title = escapeXml(options.title);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" ` +
    `aria-label="${title}"><title>${title}</title>${grid}${rows}</svg>`
  );
}

/** The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above the value, so the scale reads in round numbers. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 0;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= value) ?? 10;
  return step * magnitude;
}

function tickValues(max: number): number[] {
  if (max === 0) return [0];
  const steps = [1, 2, 2.5, 5].map((s) => s * 10 ** Math.floor(Math.log10(max / 5)));
  const step = steps.find((s) => max / s <= 6) ?? max / 5;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step / 1000; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
