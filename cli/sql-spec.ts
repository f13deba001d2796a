// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${run_id} is the SQL placeholder syntax, not a template.
import { defineCommand } from './command-spec.js';
import { jsonFlag, stateDirFlag, waitFlag } from './common-flags.js';
import { calendarDayFlag } from './time-flags.js';

export const sqlSpec = defineCommand({
  name: 'sql',
  summary: 'run Athena SQL on the local warehouse, through the same DuckDB bridge as etl run',
  usage: ['"<Athena SQL>" [flags]'],
  description: `Runs the SQL on <state-dir>/warehouse.duckdb and prints each result as a table; several statements
separated by ; run in order. The placeholders of queries/ are filled: \${database}, \${raw_location},
\${warehouse_location}, and with --date \${run_id} and \${run_date}. The SQL runs sandboxed: files only below
<state-dir>/lake/. Put -- before SQL that starts with a dash.`,
  flags: {
    'state-dir': stateDirFlag,
    date: {
      schema: calendarDayFlag.optional(),
      value: 'YYYY-MM-DD',
      help: 'the night that fills ${run_id} and ${run_date}',
    },
    json: { ...jsonFlag, help: "print the last statement's {columns, rows} as the last line on stdout" },
    wait: waitFlag(),
  },
  examples: [
    `etl sql "SELECT vehicle_type, count(*) AS vehicles FROM \${database}.vehicles_data GROUP BY 1"`,
  ],
  load: async () => (await import('./sql-command.js')).sqlCommand,
});
