import { formatBytes, formatCount } from '../shared/number-format.js';
import { BAR_CHART_STYLE, type Bar, barChartHtml, escapeXml } from './bar-chart.js';
import { type FailedNightStep, nightSteps } from './failed-night.js';
import type { FailedReport, Report, StoredResultSet } from './report-model.js';

/** The result the chart shows, and how its columns read. */
const CHART = {
  result: 'avg_seconds_between_measurements',
  label: 'vehicle_type',
  value: 'avg_seconds_between_measurements',
  count: 'vehicles',
} as const;

const seconds = (value: number) =>
  `${value.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} s`;
const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;
const datasetName = (dataset: string) => (dataset === 'sensors' ? 'sensor readings' : dataset);

/**
 * The report as one self-contained HTML page: styles inline, the chart in HTML and CSS, no script, and a content
 * security policy that forbids loading anything, so it opens the same from a laptop folder or an S3 link.
 */
export function reportPage(report: Report): string {
  const title = `Night of ${formatDay(report.window.from.slice(0, 10))}`;
  return page({
    title,
    runId: report.runId,
    sub: `Data created ${formatWindow(report.window)} · finished ${formatInstant(report.finishedAt)}`,
    body: [chartSection(report.results[CHART.result]), figuresSection(report), tablesSection(report)].join(
      '\n',
    ),
    footer: "Generated from the run's EtlDone event.",
  });
}

/**
 * A failed night's page: what failed, where the night stopped, and the pages stored of those planned. It has no
 * answer to show, and says so first.
 */
export function failedNightPage(report: FailedReport): string {
  const day = dayOf(report);
  const heading = day === undefined ? `Run ${report.runId}` : `Night of ${formatDay(day)}`;
  const window =
    report.window === undefined
      ? 'Window unknown: no plan of the night was recorded'
      : `Data created ${formatWindow(report.window)}`;
  return page({
    title: `${heading}: failed`,
    heading,
    runId: report.runId,
    sub: `${window} · failed ${formatInstant(report.failedAt)}`,
    status: 'failed',
    body: [whatFailedSection(report), whereItStoppedSection(report), pagesSection(report)].join('\n'),
    footer: "Generated from the run's EtlFailed event and its run ledger.",
  });
}

function page(parts: {
  title: string;
  /** The page's h1, when it is not the title (a failed night's says FAILED in a badge beside it). */
  heading?: string;
  runId: string;
  /** HTML: escaped by whoever builds it, instants kept on one line. */
  sub: string;
  status?: 'failed';
  body: string;
  footer: string;
}): string {
  const badge = parts.status === 'failed' ? ' <span class="badge failed">FAILED</span>' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>fleet-etl · ${escapeXml(parts.title)}</title>
<style>${STYLE}${BAR_CHART_STYLE}</style>
</head>
<body>
<main>
<header>
<p class="eyebrow">fleet-etl nightly report · run ${escapeXml(parts.runId)}</p>
<h1>${escapeXml(parts.heading ?? parts.title)}${badge}</h1>
<p class="sub">${parts.sub}</p>
</header>
${parts.body}
<footer>${escapeXml(parts.footer)} Machine-readable: <a href="report.json">report.json</a>.</footer>
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
        ...(typeof vehicles === 'number' ? { note: plural(vehicles, 'vehicle') } : {}),
      },
    ];
  });
  const chart = barChartHtml(bars, {
    title: 'Average seconds between two measurements, per vehicle type',
    format: seconds,
    tickFormat: (value) => `${value.toLocaleString('en-US')} s`,
  });
  return `<section class="card">${heading}
<p class="hint">Per vehicle type, in seconds, longest first. Shorter bars mean vehicles are measured more often.</p>
<p class="hint">The answer reads the whole warehouse: every night loaded into it so far, not this night alone.</p>
${chart}
</section>`;
}

function figuresSection(report: Report): string {
  const figures: { label: string; value: string; note?: string }[] = [];
  for (const [dataset, totals] of Object.entries(report.datasets ?? {})) {
    figures.push({
      label: `${datasetName(dataset)} downloaded · ${plural(totals.pages, 'page')}`,
      value: formatCount(totals.rows),
    });
  }
  const unknown = report.unknownVehicles;
  if (unknown !== undefined) {
    const share = unknown.readings === 0 ? 0 : (unknown.unknownVehicleReadings / unknown.readings) * 100;
    figures.push({
      label: `readings of unknown vehicles dropped by the join · ${plural(unknown.unknownVehicles, 'vehicle')}`,
      value: formatCount(unknown.unknownVehicleReadings),
      note: `of ${formatCount(unknown.readings)} (${share.toLocaleString('en-US', { maximumFractionDigits: 1 })}%)`,
    });
  }
  figures.push(
    { label: 'SQL files', value: formatCount(report.sqlFiles.length) },
    { label: 'SQL time', value: seconds(report.sql.durationMs / 1000) },
    { label: 'Data scanned', value: formatBytes(report.sql.dataScannedBytes) },
    { label: 'Queries', value: formatCount(report.sql.queryExecutionIds.length) },
  );
  const cards = figures
    .map(
      ({ label, value, note }) =>
        `<div class="figure"><div class="value">${escapeXml(value)}${
          note === undefined ? '' : ` <span class="of">${escapeXml(note)}</span>`
        }</div><div class="label">${escapeXml(label)}</div></div>`,
    )
    .join('');
  const notes = [
    report.datasets === undefined
      ? '<p class="missing">Download counts were not carried by this run\u2019s EtlDone event.</p>'
      : '',
    unknown === undefined
      ? '<p class="missing">Readings dropped for an unknown vehicle were not counted by this run\u2019s SQL.</p>'
      : '',
  ].join('');
  return `<section class="card"><h2>The run in numbers</h2><div class="figures">${cards}</div>${notes}</section>`;
}

function tablesSection(report: Report): string {
  return Object.entries(report.results)
    .map(([name, result]) => {
      const numeric = (c: string) =>
        result.rows.length > 0 && result.rows.every((row) => typeof row[c] === 'number');
      const head = result.columns
        .map((c) => `<th${numeric(c) ? ' class="num"' : ''}>${breakable(c)}</th>`)
        .join('');
      const body = result.rows
        .map((row) => `<tr>${result.columns.map((c) => cell(row[c])).join('')}</tr>`)
        .join('\n');
      const csv = report.files.csv[name]?.split('/').at(-1);
      const link = csv === undefined ? '' : ` <a class="csv" href="${escapeXml(csv)}">CSV</a>`;
      return table(`${breakable(name)}${link}`, name, head, body);
    })
    .join('\n');
}

/**
 * A table in a box of its own: long column names break at their underscores, and a table still wider than the
 * screen scrolls inside the box, never the page.
 */
function table(heading: string, label: string, head: string, body: string): string {
  return `<section class="card"><h2>${heading}</h2><div class="table-box" role="region" aria-label="${escapeXml(label)}" tabindex="0"><table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></div></section>`;
}

/** Escaped, with a line-break opportunity after each underscore: `avg_seconds_between_measurements` wraps. */
function breakable(text: string): string {
  return escapeXml(text).replace(/_/g, '_<wbr>');
}

function whatFailedSection(report: FailedReport): string {
  const { stage, dataset, page, file, reason } = report.failure;
  const facts: [string, string][] = [['Stage', stage]];
  if (dataset !== undefined) facts.push(['Dataset', dataset]);
  if (page !== undefined) facts.push(['Page', formatCount(page)]);
  if (file !== undefined) facts.push(['SQL file', file]);
  const list = facts
    .map(([term, value]) => `<div><dt>${escapeXml(term)}</dt><dd>${escapeXml(value)}</dd></div>`)
    .join('');
  return `<section class="card failure"><h2>What failed</h2>
<p class="missing">This night has no answer: a stage gave up before the SQL files finished.</p>
<dl class="facts">${list}</dl>
<p class="reason-label">Reason</p>
<p class="reason">${escapeXml(reason)}</p>
</section>`;
}

const STEP_MARK: Record<FailedNightStep['state'], string> = {
  done: '✓ done',
  failed: '✗ failed',
  stopped: '… stopped',
  'not reached': '– not reached',
};

function whereItStoppedSection(report: FailedReport): string {
  const steps = nightSteps(report)
    .map(
      (step) =>
        `<li class="step ${step.state.replace(' ', '-')}"><span class="state">${escapeXml(STEP_MARK[step.state])}</span>` +
        `<span class="what"><strong>${escapeXml(step.name)}</strong> <span class="detail">${escapeXml(step.detail)}</span></span></li>`,
    )
    .join('');
  return `<section class="card"><h2>Where it stopped</h2><ol class="steps">${steps}</ol>
<p class="hint">Running the night again resumes it: pages already stored are kept, not fetched again.</p></section>`;
}

function pagesSection(report: FailedReport): string {
  const rows = Object.entries(report.datasets)
    .map(
      ([dataset, d]) =>
        `<tr><td>${escapeXml(dataset)}</td><td class="num">${d.plannedPages === undefined ? 'not planned' : formatCount(d.plannedPages)}</td>` +
        `<td class="num">${formatCount(d.storedPages)}</td><td class="num">${formatCount(d.rows)}</td></tr>`,
    )
    .join('\n');
  const head =
    '<th>dataset</th><th class="num">planned pages</th><th class="num">stored pages</th><th class="num">rows stored</th>';
  const pages =
    rows === ''
      ? '<section class="card"><h2>Pages stored of planned</h2><p class="missing">The run ledger has no plan and no page of this night.</p></section>'
      : table('Pages stored of planned', 'pages stored of planned', head, rows);
  if (report.failedPages.length === 0) return pages;
  const failed = report.failedPages
    .map(
      (f) =>
        `<li><strong>${escapeXml(f.dataset)} page ${formatCount(f.page)}</strong> <span class="reason">${escapeXml(f.reason)}</span></li>`,
    )
    .join('');
  return `${pages}\n<section class="card"><h2>Pages that gave up</h2><ul class="gave-up">${failed}</ul></section>`;
}

function cell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '<td class="null">NULL</td>';
  if (typeof value === 'number') {
    const text = Number.isInteger(value)
      ? formatCount(value)
      : value.toLocaleString('en-US', { maximumFractionDigits: 3 });
    return `<td class="num">${text}</td>`;
  }
  return `<td>${escapeXml(String(value))}</td>`;
}

/** The night's day: from its window, or from a run id that names a UTC day. */
function dayOf(report: FailedReport): string | undefined {
  if (report.window !== undefined) return report.window.from.slice(0, 10);
  return /^\d{4}-\d{2}-\d{2}$/.test(report.runId) ? report.runId : undefined;
}

function formatDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

/** The window as HTML, each instant on one line. */
function formatWindow({ from, to, timeZone }: Report['window']): string {
  const zone = timeZone === 'UTC' ? 'UTC' : `UTC; the API's zone is ${escapeXml(timeZone)}`;
  const instant = (iso: string) =>
    `<span class="nowrap">${escapeXml(iso.slice(0, 16).replace('T', ' '))}</span>`;
  return `${instant(from)} – ${instant(to)} (${zone})`;
}

/** An instant as HTML, on one line. */
function formatInstant(iso: string): string {
  return `<span class="nowrap">${escapeXml(iso.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC'))}</span>`;
}

/**
 * Mobile first where it matters: nothing has a fixed width, long words (run ids, reasons, keys) may break
 * anywhere, tables sit in their own scroll box, and paddings shrink under 520 px.
 */
const STYLE = `
:root{color-scheme:light;--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bar:#2563eb;--bg:#f8fafc;--bad:#b91c1c}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:anywhere}
main{max-width:880px;margin:0 auto;padding:32px 20px 48px}
header h1{margin:2px 0 4px;font-size:30px;line-height:1.2}
.eyebrow{margin:0;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-size:12px}
.sub,.hint,footer{color:var(--muted);margin:0}
.nowrap{white-space:nowrap}
.badge{display:inline-block;vertical-align:middle;font-size:13px;font-weight:700;letter-spacing:.04em;padding:2px 8px;border-radius:999px}
.badge.failed{background:#fee2e2;color:var(--bad)}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:20px 22px;margin-top:20px;min-width:0}
.card h2{margin:0 0 6px;font-size:18px}
.card.failure{border-color:#fca5a5}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,130px),1fr));gap:12px;margin-top:12px}
.figure{border:1px solid var(--line);border-radius:8px;padding:10px 12px;min-width:0}
.figure .value{font-size:22px;font-weight:650}
.figure .of{display:block;font-size:13px;font-weight:400;color:var(--muted)}
.figure .label{color:var(--muted);font-size:13px}
.missing{color:#92400e}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,140px),1fr));gap:8px 16px;margin:12px 0 0}
.facts dt{color:var(--muted);font-size:13px}
.facts dd{margin:0;font-weight:600}
.reason-label{margin:12px 0 0;color:var(--muted);font-size:13px}
.reason{margin:2px 0 0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;white-space:pre-wrap}
.steps{list-style:none;margin:10px 0 12px;padding:0}
.step{display:grid;grid-template-columns:8.5rem minmax(0,1fr);gap:4px 12px;padding:8px 0;border-bottom:1px solid var(--line)}
.step .state{font-weight:650;white-space:nowrap}
.step.done .state{color:#047857}
.step.failed .state{color:var(--bad)}
.step.stopped .state,.step.not-reached .state{color:var(--muted)}
.gave-up{margin:8px 0 0;padding-left:20px}
.gave-up li{margin-top:6px}
.table-box{overflow-x:auto;margin-top:8px;max-width:100%}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:bottom}
th,td{overflow-wrap:break-word}
td.num,th.num{text-align:right}
td.num{white-space:nowrap}
td.null{color:var(--muted)}
a.csv{font-size:13px;font-weight:400;margin-left:8px}
footer{margin-top:24px;font-size:13px}
@media (max-width:520px){
main{padding:20px 12px 32px}
header h1{font-size:24px}
.card{padding:14px;margin-top:14px}
th,td{padding:6px 4px}
th{font-size:14px}
.step{grid-template-columns:minmax(0,1fr)}
}
`;
