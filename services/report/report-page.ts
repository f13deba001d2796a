import { type Bar, barChartSvg, escapeXml } from './bar-chart.js';
import type { Report, StoredResultSet } from './report-model.js';

/** The result the chart shows, and how its columns read. */
const CHART = {
  result: 'avg_seconds_between_measurements',
  label: 'vehicle_type',
  value: 'avg_seconds_between_measurements',
  count: 'vehicles',
} as const;

const seconds = (value: number) =>
  `${value.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} s`;
const count = (value: number) => value.toLocaleString('en-US');

/**
 * The report as one self-contained HTML page: styles inline, the chart as inline SVG, no script, and a content
 * security policy that forbids loading anything, so it opens the same from a laptop folder or an S3 link.
 */
export function reportPage(report: Report): string {
  const day = report.window.from.slice(0, 10);
  const title = `Night of ${formatDay(day)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>fleet-etl · ${escapeXml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<p class="eyebrow">fleet-etl nightly report · run ${escapeXml(report.runId)}</p>
<h1>${escapeXml(title)}</h1>
<p class="sub">Data created ${escapeXml(formatWindow(report.window))} · finished ${escapeXml(formatInstant(report.finishedAt))}</p>
</header>
${chartSection(report.results[CHART.result])}
${figuresSection(report)}
${tablesSection(report)}
<footer>Generated from the run's EtlDone event. Machine-readable: <a href="report.json">report.json</a>.</footer>
</main>
</body>
</html>
`;
}

function chartSection(result: StoredResultSet | undefined): string {
  const heading = '<h2>Average time between two measurements of a vehicle</h2>';
  if (result === undefined) {
    return `<section class="card">${heading}<p class="missing">This run has no ${CHART.result} result.</p></section>`;
  }
  const bars: Bar[] = result.rows.flatMap((row) => {
    const label = row[CHART.label];
    const value = row[CHART.value];
    const vehicles = row[CHART.count];
    if (typeof value !== 'number') return [];
    return [
      {
        label: label === null || label === undefined ? '(none)' : String(label),
        value,
        ...(typeof vehicles === 'number'
          ? { note: `${count(vehicles)} vehicle${vehicles === 1 ? '' : 's'}` }
          : {}),
      },
    ];
  });
  const svg = barChartSvg(bars, {
    title: 'Average seconds between two measurements, per vehicle type',
    format: seconds,
    tickFormat: (value) => `${value.toLocaleString('en-US')} s`,
  });
  return `<section class="card">${heading}
<p class="hint">Per vehicle type, in seconds, longest first. Shorter bars mean vehicles are measured more often.</p>
${svg}
</section>`;
}

function figuresSection(report: Report): string {
  const figures: [string, string][] = [];
  for (const [dataset, totals] of Object.entries(report.datasets ?? {})) {
    const what = dataset === 'sensors' ? 'sensor readings' : dataset;
    figures.push([
      `${what} downloaded · ${count(totals.pages)} page${totals.pages === 1 ? '' : 's'}`,
      count(totals.rows),
    ]);
  }
  figures.push(
    ['SQL files', count(report.sqlFiles.length)],
    ['SQL time', seconds(report.sql.durationMs / 1000)],
    ['Data scanned', bytes(report.sql.dataScannedBytes)],
    ['Queries', count(report.sql.queryExecutionIds.length)],
  );
  const cards = figures
    .map(
      ([label, value]) =>
        `<div class="figure"><div class="value">${escapeXml(value)}</div><div class="label">${escapeXml(label)}</div></div>`,
    )
    .join('');
  const note =
    report.datasets === undefined
      ? '<p class="missing">Download counts were not carried by this run\u2019s EtlDone event.</p>'
      : '';
  return `<section class="card"><h2>The run in numbers</h2><div class="figures">${cards}</div>${note}</section>`;
}

function tablesSection(report: Report): string {
  return Object.entries(report.results)
    .map(([name, result]) => {
      const numeric = (c: string) =>
        result.rows.length > 0 && result.rows.every((row) => typeof row[c] === 'number');
      const head = result.columns
        .map((c) => `<th${numeric(c) ? ' class="num"' : ''}>${escapeXml(c)}</th>`)
        .join('');
      const body = result.rows
        .map((row) => `<tr>${result.columns.map((c) => cell(row[c])).join('')}</tr>`)
        .join('\n');
      const csv = report.files.csv[name]?.split('/').at(-1);
      const link = csv === undefined ? '' : ` <a class="csv" href="${escapeXml(csv)}">CSV</a>`;
      return `<section class="card"><h2>${escapeXml(name)}${link}</h2><table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></section>`;
    })
    .join('\n');
}

function cell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '<td class="null">NULL</td>';
  if (typeof value === 'number') {
    const text = Number.isInteger(value)
      ? count(value)
      : value.toLocaleString('en-US', { maximumFractionDigits: 3 });
    return `<td class="num">${text}</td>`;
  }
  return `<td>${escapeXml(String(value))}</td>`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

function formatDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

function formatWindow({ from, to, timeZone }: Report['window']): string {
  const zone = timeZone === 'UTC' ? 'UTC' : `UTC; the API's zone is ${timeZone}`;
  return `${from.slice(0, 16).replace('T', ' ')} – ${to.slice(0, 16).replace('T', ' ')} (${zone})`;
}

function formatInstant(iso: string): string {
  return iso.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC');
}

const STYLE = `
:root{color-scheme:light;--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bar:#2563eb;--bg:#f8fafc}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:880px;margin:0 auto;padding:32px 20px 48px}
header h1{margin:2px 0 4px;font-size:30px}
.eyebrow{margin:0;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-size:12px}
.sub,.hint,footer{color:var(--muted);margin:0}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:20px 22px;margin-top:20px}
.card h2{margin:0 0 6px;font-size:18px}
svg{display:block;margin-top:12px}
svg .bar{fill:var(--bar)}
svg .grid{stroke:var(--line);stroke-width:1}
svg .tick{fill:var(--muted);font-size:12px}
svg .label{fill:var(--ink);font-size:15px;font-weight:600}
svg .note{fill:var(--muted);font-size:12px}
svg .value{fill:var(--ink);font-size:15px;font-weight:600}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin-top:12px}
.figure{border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.figure .value{font-size:22px;font-weight:650}
.figure .label{color:var(--muted);font-size:13px}
.missing{color:#92400e}
table{border-collapse:collapse;width:100%;margin-top:8px;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line)}
td.num,th.num{text-align:right}
td.null{color:var(--muted)}
a.csv{font-size:13px;font-weight:400;margin-left:8px}
footer{margin-top:24px;font-size:13px}
`;
