/** Every fleet-etl event carries this `source`; consumers match on it in their rules. */
export const EVENT_SOURCE = 'fleet-etl' as const;

/** The custom bus's default name; deployments may override it through configuration. */
export const DEFAULT_BUS_NAME = 'fleet-etl' as const;

/** Detail-types are owned here, by the producer side; consumers import them into their rules. */
export const DetailType = {
  PagesPlanned: 'PagesPlanned',
  PageDownloaded: 'PageDownloaded',
  DownloadsDrained: 'DownloadsDrained',
  SqlFileExecuted: 'SqlFileExecuted',
  EtlDone: 'EtlDone',
  EtlFailed: 'EtlFailed',
} as const;

export type DetailTypeName = (typeof DetailType)[keyof typeof DetailType];
