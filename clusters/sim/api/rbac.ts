import type { UserInfo } from './authn.js';
import type { ApiService } from './service.js';
import { ApiError } from './status.js';
import type { TypeRegistry } from './type-registry.js';
import type { KubeObject } from './types.js';

/** What the authorizer is asked about a request (k8s.io/apiserver authorizer.Attributes). */
export interface RequestAttributes {
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface Binding {
  subjects?: Subject[];
  roleRef: { kind: string; name: string };
}

const HTTP_VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete', GET: 'get', HEAD: 'get' };

/** What a cluster grants every authenticated user (the system:discovery and system:basic-user ClusterRoles). */
const DISCOVERY_PATHS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/version', '/version/', '/openapi', '/openapi/*'];
const BASIC_USER: PolicyRule[] = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  { verbs: ['get'], nonResourceURLs: DISCOVERY_PATHS },
];

/**
 * The request's attributes as the API server's RequestInfoFactory derives them from its URL:
 * `/api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]` and the `/apis/{group}/{version}/…`
 * forms; a GET is get, list or watch; a DELETE without a name is deletecollection. Undefined for
 * paths the API server does not own (the embedded cluster's metrics, Prometheus and admin APIs),
 * which are other services on a real cluster.
 */
export function requestAttributes(method: string, url: URL, types: TypeRegistry): RequestAttributes | undefined {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  const httpVerb = HTTP_VERBS[method] ?? method.toLowerCase();
  const nonResource = (): RequestAttributes | undefined => (DISCOVERY_PATHS.some((p) => pathMatches(p, path)) ? { verb: method.toLowerCase() === 'head' ? 'get' : method.toLowerCase(), resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path } : undefined);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) [group, version, rest] = ['', parts[1]!, parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 4) [group, version, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
  else return nonResource();
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1]!;
    // namespaces/{name}/status and /finalize are the Namespace's own subresources.
    if (rest.length > 2 && !['status', 'finalize'].includes(rest[2]!)) rest = rest.slice(2);
  }
  const [resource, name = '', subresource = ''] = rest;
  if (!resource || !types.find(group, version, resource)) return undefined;
  let verb = httpVerb;
  if (method === 'GET' || method === 'HEAD') verb = name ? 'get' : ['1', 'true', 'True'].includes(url.searchParams.get('watch') ?? '') ? 'watch' : 'list';
  if (method === 'DELETE' && !name) verb = 'deletecollection';
  return { verb, resourceRequest: true, apiGroup: group, resource, subresource, namespace, name, path };
}

function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
}

function subjectMatches(subject: Subject, user: UserInfo): boolean {
  if (subject.kind === 'ServiceAccount') return user.username === `system:serviceaccount:${subject.namespace ?? ''}:${subject.name}`;
  if (subject.kind === 'User') return user.username === subject.name;
  if (subject.kind === 'Group') return user.groups.includes(subject.name);
  return false;
}

/** k8s.io/kubernetes/pkg/apis/rbac/v1 evaluation_helpers.go: verbs, API groups, resources (with a star and star-slash-subresource), names. */
function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  const has = (list: string[] | undefined, value: string) => (list ?? []).some((v) => v === '*' || v === value);
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return (rule.nonResourceURLs ?? []).some((p) => p === '*' || pathMatches(p, a.path));
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  const wanted = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  if (!resources.some((r) => r === '*' || r === wanted || (a.subresource !== '' && r === `*/${a.subresource}`))) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

/** One request the authorizer saw from someone other than the cluster admin. */
export interface AuditEntry extends Omit<RequestAttributes, 'resourceRequest'> {
  user: string;
  allowed: boolean;
}

/**
 * RBAC as the API server's RBAC authorizer applies it: ClusterRoleBindings grant everywhere,
 * RoleBindings (to a Role of their namespace or a ClusterRole) within their namespace; nothing
 * denies, system:masters is never checked, and every authenticated user may discover the API.
 * Requests from anyone but the admin are recorded, allowed or not, so a test can hold an RBAC
 * manifest to exactly what a run used.
 */
export class RbacAuthorizer {
  readonly audit: AuditEntry[] = [];
  private static readonly AUDIT_LIMIT = 50_000;

  constructor(private readonly api: ApiService) {}

  /** Throws Forbidden, as the real server words it, unless RBAC allows the request. */
  authorize(user: UserInfo, a: RequestAttributes): void {
    if (user.groups.includes('system:masters')) return;
    const allowed = this.allows(user, a);
    if (this.audit.length >= RbacAuthorizer.AUDIT_LIMIT) this.audit.shift();
    this.audit.push({ user: user.username, verb: a.verb, apiGroup: a.apiGroup, resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name, path: a.path, allowed });
    if (!allowed) throw forbidden(user, a);
  }

  allows(user: UserInfo, a: RequestAttributes): boolean {
    if (BASIC_USER.some((rule) => ruleAllows(rule, a))) return true;
    for (const binding of this.list('rbac.authorization.k8s.io', 'clusterrolebindings')) {
      if (this.grants(binding, user, a, undefined)) return true;
    }
    if (a.namespace === '') return false;
    for (const binding of this.list('rbac.authorization.k8s.io', 'rolebindings', a.namespace)) {
      if (this.grants(binding, user, a, a.namespace)) return true;
    }
    return false;
  }

  private grants(object: KubeObject, user: UserInfo, a: RequestAttributes, namespace: string | undefined): boolean {
    const binding = object as unknown as Binding;
    if (!(binding.subjects ?? []).some((s) => subjectMatches(s, user))) return false;
    const role = binding.roleRef.kind === 'ClusterRole' ? this.find('clusterroles', undefined, binding.roleRef.name) : namespace !== undefined ? this.find('roles', namespace, binding.roleRef.name) : undefined;
    const rules = ((role?.['rules'] as PolicyRule[] | undefined) ?? []);
    return rules.some((rule) => ruleAllows(rule, a));
  }

  private list(group: string, resource: string, namespace?: string): KubeObject[] {
    const type = this.api.types.find(group, 'v1', resource);
    return type ? this.api.list(type, namespace) : [];
  }

  private find(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const type = this.api.types.find('rbac.authorization.k8s.io', 'v1', resource);
    return type ? this.api.find(type, namespace, name) : undefined;
  }
}

function forbidden(user: UserInfo, a: RequestAttributes): ApiError {
  if (!a.resourceRequest) return new ApiError(403, 'Forbidden', `forbidden: User "${user.username}" cannot ${a.verb} path "${a.path}"`);
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const wanted = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const head = a.name ? `${qualified} "${a.name}" is forbidden` : `${qualified} is forbidden`;
  return new ApiError(403, 'Forbidden', `${head}: User "${user.username}" cannot ${a.verb} resource "${wanted}" in API group "${a.apiGroup}" ${where}`, { ...(a.name ? { name: a.name } : {}), group: a.apiGroup, kind: a.resource });
}
