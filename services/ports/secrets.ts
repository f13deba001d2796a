/** Secrets Manager in the cloud, environment variables locally. Values never reach logs or events. */
export interface Secrets {
  get(name: string): Promise<string>;
}
