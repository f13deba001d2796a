// oidc-provider ships no type declarations; this is the part of its API the tests use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface ResourceServer {
    scope: string;
    audience?: string;
    accessTokenFormat?: 'opaque' | 'jwt';
    accessTokenTTL?: number;
  }

  interface Configuration {
    clients?: Record<string, unknown>[];
    features?: {
      clientCredentials?: { enabled: boolean };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (ctx: unknown, client: unknown, oneOf?: string[]) => string | string[] | undefined;
        useGrantedResource?: (ctx: unknown, model: unknown) => boolean;
        getResourceServerInfo?: (ctx: unknown, resourceIndicator: string, client: unknown) => ResourceServer;
      };
    };
  }

  interface ClientCredentialsToken {
    aud?: string | string[];
    clientId?: string;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    readonly ClientCredentials: { find(value: string): Promise<ClientCredentialsToken | undefined> };
  }

  export const errors: { InvalidTarget: new (description?: string) => Error };
}
