import type { Secrets } from '../../ports/secrets.js';
import { TerminalError } from '../../shared/errors.js';

/**
 * Secrets from environment variables, the local stand-in for Secrets Manager: secret `fleet-api/client-secret`
 * is read from `FLEET_ETL_SECRET_FLEET_API_CLIENT_SECRET`. Known values (the built-in simulator's) can be given.
 */
export class EnvSecrets implements Secrets {
  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly defaults: Readonly<Record<string, string>> = {},
  ) {}

  static variableFor(name: string): string {
    return `FLEET_ETL_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  }

  async get(name: string): Promise<string> {
    const variable = EnvSecrets.variableFor(name);
    const value = this.env[variable] ?? this.defaults[name];
    if (value === undefined || value === '') {
      // Terminal, as Secrets Manager's ResourceNotFoundException is: no retry sets the variable.
      throw new TerminalError(`secret "${name}" is not set: export ${variable}`);
    }
    return value;
  }
}
