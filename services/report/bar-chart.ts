/**
 * A horizontal bar chart in plain HTML and CSS: one labelled bar per category, longest first, the value written at
 * the end of its bar and a light scale behind. Text stays text at the page's own size, so it reads on a phone as on
 * a desktop; an SVG drawn for a desktop width shrank its labels to a third of their size at 360 px. Widths are
 * custom properties in style attributes (the page's CSP allows inline styles, nothing else), the layout is the
 * page's stylesheet (BAR_CHART_STYLE): beside the bar on a wide screen, above it on a narrow one.
 */

export interface Bar {
  label: string;
  value: number;
  /** A second line beside or under the label, e.g. "43 vehicles". */
  note?: string;
}

export interface BarChartOptions {
  title: string;
  /** How a value is written on its bar, e.g. 40.83 → "40.8 s". */
  format: (value: number) => string;
  /** How the scale's round numbers are written, e.g. 10 → "10 s". */
  tickFormat: (value: number) => string;
}

export function barChartHtml(bars: readonly Bar[], options: BarChartOptions): string {
  const sorted = [...bars].sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  const max = niceCeiling(Math.max(0, ...sorted.map((b) => b.value)));
  const share = (value: number) => (max === 0 ? 0 : Math.max(0, value) / max).toFixed(4);
  const ticks = tickValues(max);
  const grid = ticks.map((t) => `<span class="grid" style="--at:${share(t)}"></span>`).join('');
  const values = sorted.map((bar) => options.format(bar.value));
  // Room after the longest bar for the longest value: one ch per character, and one more for bold digits.
  const valueRoom = Math.max(1, ...values.map((v) => v.length)) + 1;
  const rows = sorted
    .map((bar, i) => {
      const label = escapeXml(bar.label);
      const value = escapeXml(values[i] ?? '');
      const note = bar.note === undefined ? '' : escapeXml(bar.note);
      return (
        `<li class="row"><div class="label"><span class="name">${label}</span>` +
        (note ? `<span class="note">${note}</span>` : '') +
        `</div><div class="track">${grid}` +
        `<span class="bar" data-label="${label}" data-value="${bar.value}" style="--share:${share(bar.value)}" ` +
        `title="${label}: ${value}${note ? ` (${note})` : ''}"></span>` +
        `<span class="value">${value}</span></div></li>`
      );
    })
    .join('');
  const axis = ticks
    .map((t) => `<span class="tick" style="--at:${share(t)}">${escapeXml(options.tickFormat(t))}</span>`)
    .join('');
  return (
    `<figure class="chart" style="--value-room:calc(${valueRoom}ch + 8px)" aria-label="${escapeXml(options.title)}">` +
    `<ol class="bars">${rows}</ol><div class="axis" aria-hidden="true">${axis}</div></figure>`
  );
}

/**
 * The chart's layout. `--label` is the label column on a wide screen; under 520 px the label goes above its bar
 * and the bars take the whole width. The plot is the track less `--value-room`, so the longest bar's value fits.
 */
export const BAR_CHART_STYLE = `
.chart{margin:12px 0 0;--label:9.5rem;--gap:12px}
.chart .bars{list-style:none;margin:0;padding:0}
.chart .row{display:grid;grid-template-columns:var(--label) minmax(0,1fr);column-gap:var(--gap);align-items:center;min-height:46px}
.chart .label{text-align:right;line-height:1.25;min-width:0;overflow-wrap:anywhere}
.chart .name{display:block;font-weight:600}
.chart .note{display:block;color:var(--muted);font-size:13px}
.chart .track{position:relative;display:flex;align-items:center;min-height:34px;min-width:0}
.chart .grid{position:absolute;top:0;bottom:0;left:calc((100% - var(--value-room)) * var(--at));width:1px;background:var(--line)}
.chart .bar{position:relative;flex:none;height:26px;border-radius:3px;background:var(--bar);min-width:1px;width:calc((100% - var(--value-room)) * var(--share))}
.chart .value{position:relative;margin-left:8px;font-weight:600;white-space:nowrap;font-variant-numeric:tabular-nums}
.chart .axis{position:relative;height:22px;margin-left:calc(var(--label) + var(--gap))}
.chart .tick{position:absolute;top:4px;left:calc((100% - var(--value-room)) * var(--at));transform:translateX(-50%);color:var(--muted);font-size:12px;white-space:nowrap}
.chart .tick:first-child{transform:none}
@media (max-width:520px){
.chart .row{grid-template-columns:minmax(0,1fr);row-gap:2px;padding-top:6px}
.chart .label{text-align:left;display:flex;flex-wrap:wrap;align-items:baseline;column-gap:8px}
.chart .name,.chart .note{display:inline}
.chart .axis{margin-left:0}
}
`;

/** The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above the value, so the scale reads in round numbers. */
function niceCeiling(value: number): number {
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
