import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../core/index.js';
import type { ApiService } from './service.js';
import { ApiError } from './status.js';

/** Who a request is, as the API server's authenticators say it (k8s.io/apiserver user.Info). */
export interface UserInfo {
  username: string;
  groups: string[];
}

/**
 * The kubeconfig's own user: it carries no credential and is a cluster admin, as kind's
 * kubernetes-admin (group system:masters, which RBAC never checks) is.
 */
export const CLUSTER_ADMIN: UserInfo = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** kube-apiserver's --service-account-max-token-expiration default is unset; kubectl asks for 1h. */
const DEFAULT_EXPIRATION_S = 3_600;
/** A TokenRequest may not ask for less than 10 minutes (validation of TokenRequestSpec). */
const MIN_EXPIRATION_S = 600;

interface Claims {
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  sub: string;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string } };
}

const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');

/**
 * Bound service-account tokens, as the TokenRequest API issues them: a JWT whose subject is
 * system:serviceaccount:<namespace>:<name>, signed by the server, valid until it expires or its
 * ServiceAccount is deleted (KEP-1205: the token names the account's uid). A request with no
 * credential is the kubeconfig's admin; a credential that does not verify is 401, as on a real server.
 */
export class TokenAuthenticator {
  private readonly key = randomBytes(32);
  /**
   * The admin's own token (kube-apiserver's static token file): a kubeconfig for a TLS server
   * carries it, since kubectl asks for a password when a TLS server's user has no credential.
   */
  readonly adminToken = randomBytes(24).toString('base64url');

  constructor(
    private readonly api: ApiService,
    private readonly clock: Clock,
  ) {}

  /** POST …/serviceaccounts/<name>/token: what `kubectl create token` calls. */
  issue(namespace: string, name: string, spec: { audiences?: string[]; expirationSeconds?: number }): { token: string; expirationTimestamp: string } {
    const type = this.api.types.find('', 'v1', 'serviceaccounts')!;
    const account = this.api.get(type, namespace, name);
    const seconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_S;
    if (seconds < MIN_EXPIRATION_S) throw new ApiError(422, 'Invalid', `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${seconds}: may not specify a duration less than 10 minutes`);
    const now = Math.floor(this.clock.now() / 1000);
    const claims: Claims = {
      aud: spec.audiences?.length ? spec.audiences : [ISSUER],
      exp: now + seconds,
      iat: now,
      nbf: now,
      iss: ISSUER,
      sub: `system:serviceaccount:${namespace}:${name}`,
      'kubernetes.io': { namespace, serviceaccount: { name, uid: account.metadata.uid ?? '' } },
    };
    return { token: this.sign(claims), expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** The user a request's Authorization header names; the admin when it names none. */
  authenticate(header: string | undefined): UserInfo {
    if (header === undefined || header.trim() === '') return CLUSTER_ADMIN;
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match) throw unauthorized();
    if (match[1] === this.adminToken) return CLUSTER_ADMIN;
    const claims = this.verify(match[1]!);
    if (!claims) throw unauthorized();
    const { namespace, serviceaccount } = claims['kubernetes.io'];
    // A bound token dies with its ServiceAccount (or a new one of the same name).
    const account = this.api.find(this.api.types.find('', 'v1', 'serviceaccounts')!, namespace, serviceaccount.name);
    if (!account || account.metadata.uid !== serviceaccount.uid) throw unauthorized();
    return { username: claims.sub, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
  }

  private sign(claims: Claims): string {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'meshdrill-sim' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${header}.${payload}.${this.mac(`${header}.${payload}`)}`;
  }

  private verify(token: string): Claims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = Buffer.from(this.mac(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
    } catch {
      return undefined;
    }
    const now = this.clock.now() / 1000;
    if (typeof claims.exp !== 'number' || now >= claims.exp || now < claims.nbf) return undefined;
    return claims;
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }
}

/**
 * `Impersonate-User` / `Impersonate-Group` (kubectl --as, --as-group): the admin may act as anyone,
 * which is how a test asks "could this service account do that?" without minting a token.
 */
export function impersonated(user: UserInfo, headers: Record<string, string | string[] | undefined>): UserInfo {
  const as = headers['impersonate-user'];
  if (as === undefined) return user;
  if (!user.groups.includes('system:masters')) throw new ApiError(403, 'Forbidden', `users "${String(as)}" is forbidden: User "${user.username}" cannot impersonate resource "users" in API group "" at the cluster scope`);
  const username = String(as);
  const asked = headers['impersonate-group'];
  const groups = asked === undefined ? [] : Array.isArray(asked) ? asked : asked.split(',');
  const sa = /^system:serviceaccount:([^:]+):/.exec(username);
  // The API server adds the groups a service account's token would carry.
  const implied = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : [];
  return { username, groups: [...new Set([...groups, ...implied, 'system:authenticated'])] };
}
