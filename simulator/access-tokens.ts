import { randomBytes } from 'node:crypto';

/** Bearer tokens the simulator issued, with their expiry on the simulator's own clock. */
export class AccessTokens {
  private readonly expiries = new Map<string, number>();
  /** Every token ever issued, for tests that scan a run's output for leaked tokens. */
  readonly issued: string[] = [];

  constructor(
    private readonly now: () => number,
    private readonly ttlSeconds: number,
  ) {}

  issue(): { accessToken: string; expiresIn: number } {
    this.forgetExpired();
    const accessToken = randomBytes(24).toString('base64url');
    this.expiries.set(accessToken, this.now() + this.ttlSeconds * 1000);
    this.issued.push(accessToken);
    return { accessToken, expiresIn: this.ttlSeconds };
  }

  isValid(accessToken: string): boolean {
    const expiry = this.expiries.get(accessToken);
    return expiry !== undefined && this.now() < expiry;
  }

  /** Every issued token becomes invalid at once, as after a key rotation on the provider's side. */
  revokeAll(): void {
    this.expiries.clear();
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [token, expiry] of this.expiries) {
      if (expiry <= now) {
        this.expiries.delete(token);
      }
    }
  }
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * Client credentials from HTTP Basic (RFC 6749 §2.3.1: each part form-urlencoded first) or, failing that, from
 * the form body's client_id and client_secret.
 */
export function clientCredentials(
  authorization: string | undefined,
  form: URLSearchParams,
): ClientCredentials | undefined {
  const basic = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(authorization ?? '');
  if (basic?.[1] !== undefined) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      return undefined;
    }
    const formDecode = (part: string) => {
      try {
        return decodeURIComponent(part.replace(/\+/g, ' '));
      } catch {
        return part;
      }
    };
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      clientSecret: formDecode(decoded.slice(colon + 1)),
    };
  }
  const clientId = form.get('client_id');
  const clientSecret = form.get('client_secret');
  return clientId !== null && clientSecret !== null ? { clientId, clientSecret } : undefined;
}
