export interface SqlFile {
  /** File name, e.g. `30_sensor_data.sql`; files run in lexical order of their names. */
  name: string;
  text: string;
}

/** Where the SQL files come from: the bundled queries/ folder, or a GitHub folder. */
export interface SqlSource {
  list(): Promise<SqlFile[]>;
}
