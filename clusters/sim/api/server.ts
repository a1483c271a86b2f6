import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { Clock } from '../../../core/index.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { buildOpenApi, type OpenApiDocuments } from './openapi.js';
import type { ResourceType } from './resources.js';
import { byNamespaceName, namespacedName, type ApiService, type FieldValidation, type WriteOptions, type WriteResult } from './service.js';
import { ApiError, errors } from './status.js';
import { objectJson, tableJson, toTable } from './table.js';
import type { KubeObject } from './types.js';
import { serveWatch } from './watch.js';
import { sendJson, sendJsonText, type ApiRequest, type ExtraRoute } from './http.js';
import { impersonated, TokenAuthenticator, type UserInfo } from './authn.js';
import { RbacAuthorizer, requestAttributes, type RequestAttributes } from './rbac.js';

export { sendJson, type ApiRequest, type ExtraRoute };

/** A real API server refuses bodies over 3 MiB. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export class ApiHttpHandler {
  private openApi?: { key: string; docs: OpenApiDocuments };
  /** Service-account tokens (TokenRequest); no credential is the kubeconfig's admin. */
  readonly authn: TokenAuthenticator;
  /** RBAC for everyone but the admin, with an audit of what they asked. */
  readonly authz: RbacAuthorizer;

  constructor(
    private readonly service: ApiService,
    private readonly clock: Clock,
    private readonly extraRoutes: ExtraRoute[] = [],
  ) {
    this.authn = new TokenAuthenticator(service, clock);
    this.authz = new RbacAuthorizer(service);
  }

  addRoute(route: ExtraRoute): void {
    this.extraRoutes.push(route);
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.dispatch(req, res).catch((error: unknown) => {
      const apiError = error instanceof ApiError ? error : errors.internal(error instanceof Error ? error.message : String(error));
      if (!res.headersSent) sendJson(res, apiError.code, apiError.toStatus());
      else res.end();
    });
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const request: ApiRequest = { method: req.method ?? 'GET', url, headers: req.headers };
    const body = () => readBody(req);
    // The API server's own paths are authenticated and authorized before anything serves them;
    // the other services sharing this port (metrics, Prometheus, admin) are not the API server's.
    const attributes = requestAttributes(request.method, url, this.service.types);
    if (attributes) this.authorize(req, attributes);
    for (const route of this.extraRoutes) if (await route(request, body, res)) return;
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const segments = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
    if (attributes?.resource === 'serviceaccounts' && attributes.subresource === 'token' && request.method === 'POST') return this.serveTokenRequest(attributes, await body(), res);
    if (request.method === 'GET' && this.discovery(segments, req, res)) return;
    const target = this.resolve(segments);
    if (!target) throw errors.notFoundPath();
    await this.serveResource(request, target, body, res);
  }

  private authorize(req: IncomingMessage, attributes: RequestAttributes): void {
    const user: UserInfo = impersonated(this.authn.authenticate(req.headers.authorization), req.headers);
    this.authz.authorize(user, attributes);
    // Server-side apply to an object that does not exist creates it: RBAC must allow create too
    // (apiserver handlers/update.go withAuthorization).
    const { apiGroup, resource, namespace, name } = attributes;
    if (attributes.verb === 'patch' && String(req.headers['content-type'] ?? '').includes('apply-patch') && !attributes.subresource) {
      const type = this.service.types.all().find((t) => t.group === apiGroup && t.resource === resource);
      if (type && !this.service.find(type, namespace || undefined, name)) this.authz.authorize(user, { ...attributes, verb: 'create' });
    }
  }

  /** TokenRequest (authentication.k8s.io/v1): a bound token for the ServiceAccount, as `kubectl create token` asks. */
  private serveTokenRequest(attributes: RequestAttributes, raw: string, res: ServerResponse): void {
    const request = (raw.trim() === '' ? {} : parseJsonOrYaml(raw, 'application/json')) as { spec?: { audiences?: string[]; expirationSeconds?: number } };
    const issued = this.authn.issue(attributes.namespace, attributes.name, request.spec ?? {});
    sendJson(res, 201, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: attributes.name, namespace: attributes.namespace, creationTimestamp: null },
      spec: { audiences: request.spec?.audiences ?? ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: request.spec?.expirationSeconds ?? 3_600, boundObjectRef: null },
      status: issued,
    });
  }

  private discovery(segments: string[], req: IncomingMessage, res: ServerResponse): boolean {
    const types = this.service.types;
    const path = segments.join('/');
    if (path === 'version') return sendJson(res, 200, VERSION_INFO);
    if (path === 'healthz' || path === 'readyz' || path === 'livez') return sendText(res, 200, 'ok');
    if (path === 'api') return sendJson(res, 200, apiVersions(req.headers.host ?? '127.0.0.1'));
    if (path === 'apis') return sendJson(res, 200, apiGroupList(types));
    if (segments[0] === 'openapi') return this.serveOpenApi(segments, res, String(req.headers.accept ?? ''));
    if (segments.length === 2 && segments[0] === 'api') return sendOr404(res, apiResourceList(types, '', segments[1]!));
    if (segments.length === 2 && segments[0] === 'apis') return sendOr404(res, apiGroup(types, segments[1]!));
    if (segments.length === 3 && segments[0] === 'apis') return sendOr404(res, apiResourceList(types, segments[1]!, segments[2]!));
    return false;
  }

  private serveOpenApi(segments: string[], res: ServerResponse, accept: string): boolean {
    const docs = this.openApiDocs();
    if (segments[1] === 'v2' && accept.includes('protobuf')) {
      // kubectl falls back to /openapi/v2 in protobuf for a group version /openapi/v3 lacks (a kind
      // whose CRD is missing). A real server answers in protobuf; the document holds no definition
      // of that kind, so kubectl skips validation and reports "no matches for kind" from discovery.
      res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF });
      res.end(openApiV2Protobuf());
      return true;
    }
    if (segments[1] === 'v2') return sendJson(res, 200, docs.v2);
    if (segments[1] !== 'v3') return sendOr404(res, undefined);
    if (segments.length === 2) {
      const paths = Object.fromEntries([...docs.v3].map(([gv, { hash }]) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` }]));
      return sendJson(res, 200, { paths });
    }
    return sendOr404(res, docs.v3.get(segments.slice(2).join('/'))?.document);
  }

  private openApiDocs(): OpenApiDocuments {
    const key = this.service.types.all().map((t) => `${t.group}/${t.version}/${t.resource}`).join(',');
    if (this.openApi?.key !== key) this.openApi = { key, docs: buildOpenApi(this.service.types) };
    return this.openApi.docs;
  }

  /** `/api/v1/[namespaces/{ns}/]{resource}[/{name}[/{sub}]]` and the `/apis/{group}/{version}/…` forms. */
  private resolve(segments: string[]): Target | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api' && segments.length >= 3) [group, version, rest] = ['', segments[1]!, segments.slice(2)];
    else if (segments[0] === 'apis' && segments.length >= 4) [group, version, rest] = [segments[1]!, segments[2]!, segments.slice(3)];
    else return undefined;
    let namespace: string | undefined;
    const isNamespaceSubresource = rest[0] === 'namespaces' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize');
    if (rest[0] === 'namespaces' && rest.length >= 3 && !isNamespaceSubresource) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = this.service.types.find(group, version, rest[0]!);
    if (!type || rest.length > 3) return undefined;
    if (namespace !== undefined && !type.namespaced) return undefined;
    const subresource = rest[2];
    if (subresource !== undefined && !type.subresources.includes(subresource as 'status') && subresource !== 'finalize') return undefined;
    return { type, namespace, name: rest[1], subresource };
  }

  private async serveResource(request: ApiRequest, target: Target, body: () => Promise<string>, res: ServerResponse): Promise<void> {
    const { type, namespace, name, subresource } = target;
    const q = request.url.searchParams;
    const wantsTable = (request.headers.accept ?? '').includes('as=Table');
    const options: WriteOptions = {
      dryRun: q.getAll('dryRun').includes('All'),
      fieldValidation: (q.get('fieldValidation') ?? 'Warn') as FieldValidation,
      fieldManager: q.get('fieldManager') ?? undefined,
      subresource: subresource === 'finalize' ? 'status' : subresource,
      force: q.get('force') === 'true',
    };
    switch (request.method) {
      case 'GET': {
        if (name === undefined) {
          if (isTrue(q.get('watch'))) return serveWatch(this.service, type, namespace, request, res, { table: wantsTable, clock: this.clock });
          return this.serveList(type, namespace, q, wantsTable, res);
        }
        const object = this.service.get(type, namespace, name);
        if (subresource === 'scale') return void sendJson(res, 200, this.service.scaleOf(type, object));
        if (wantsTable) return void sendJson(res, 200, toTable(type.kind, [object], this.clock.now(), object.metadata.resourceVersion ?? '', q.get('includeObject') ?? 'Metadata'));
        return void sendJson(res, 200, object);
      }
      case 'POST': {
        if (name !== undefined) throw errors.methodNotAllowed();
        const result = this.service.create(type, namespace, parseJsonOrYaml(await body(), request.headers['content-type']), options);
        return void sendWrite(res, 201, result);
      }
      case 'PUT': {
        if (name === undefined) throw errors.methodNotAllowed();
        const result = this.service.update(type, namespace, name, parseJsonOrYaml(await body(), request.headers['content-type']), options);
        return void sendWrite(res, 200, result);
      }
      case 'PATCH': {
        if (name === undefined) throw errors.methodNotAllowed();
        const result = this.service.patch(type, namespace, name, String(request.headers['content-type'] ?? ''), await body(), options);
        return void sendWrite(res, result.created ? 201 : 200, result);
      }
      case 'DELETE': {
        const raw = await body();
        const deleteOptions = raw.trim() === '' ? {} : (parseJsonOrYaml(raw, 'application/json') as { propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] });
        const propagationPolicy = q.get('propagationPolicy') ?? deleteOptions.propagationPolicy;
        const dryRun = options.dryRun || (deleteOptions.dryRun ?? []).includes('All');
        if (name === undefined) return this.deleteCollection(type, namespace, q, res, { propagationPolicy, dryRun });
        const deleted = this.service.delete(type, namespace, name, { propagationPolicy, preconditions: deleteOptions.preconditions, dryRun });
        return void sendJson(res, 200, deleted);
      }
      default:
        throw errors.methodNotAllowed();
    }
  }

  /** The last list asked for, in order, while nothing in the store has changed: kubectl pages through it. */
  private lastList?: { rv: number; key: string; items: KubeObject[]; keys: string[] };

  private sortedSelection(type: ResourceType, namespace: string | undefined, q: URLSearchParams): { items: KubeObject[]; keys: string[] } {
    const rv = this.service.store.currentRv();
    const key = `${type.group}/${type.version}/${type.resource}|${namespace ?? ''}|${q.get('labelSelector') ?? ''}|${q.get('fieldSelector') ?? ''}`;
    if (this.lastList?.rv === rv && this.lastList.key === key) return this.lastList;
    const items = this.select(type, namespace, q).sort(byNamespaceName);
    this.lastList = { rv, key, items, keys: items.map(namespacedName) };
    return this.lastList;
  }

  private serveList(type: ResourceType, namespace: string | undefined, q: URLSearchParams, wantsTable: boolean, res: ServerResponse): void {
    const { items, keys } = this.sortedSelection(type, namespace, q);
    const rv = String(this.service.store.currentRv());
    const limit = Number(q.get('limit') ?? '0');
    const start = decodeContinue(q.get('continue'));
    const from = start === undefined ? 0 : firstAfter(keys, start);
    const window = limit > 0 ? items.slice(Math.max(0, from), Math.max(0, from) + limit) : items.slice(Math.max(0, from));
    const more = limit > 0 && Math.max(0, from) + limit < items.length;
    const listMeta = { resourceVersion: rv, ...(more ? { continue: encodeContinue(namespacedName(window.at(-1)!)), remainingItemCount: items.length - Math.max(0, from) - window.length } : {}) };
    if (wantsTable) return void sendJsonText(res, 200, tableJson(type.kind, window, this.clock.now(), rv, q.get('includeObject') ?? 'Metadata', more ? { continue: listMeta.continue } : {}));
    // The same text as JSON.stringify of the list, each stored object serialised once.
    const head = JSON.stringify({ kind: type.listKind, apiVersion: type.group === '' ? type.version : `${type.group}/${type.version}`, metadata: listMeta });
    sendJsonText(res, 200, `${head.slice(0, -1)},"items":[${window.map(objectJson).join(',')}]}`);
  }

  private select(type: ResourceType, namespace: string | undefined, q: URLSearchParams): KubeObject[] {
    return this.service.select(type, namespace, { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') });
  }

  private deleteCollection(type: ResourceType, namespace: string | undefined, q: URLSearchParams, res: ServerResponse, options: { propagationPolicy?: string; dryRun: boolean }): void {
    const items = this.select(type, namespace, q);
    for (const item of items) this.service.delete(type, item.metadata.namespace, item.metadata.name, options);
    sendJson(res, 200, { kind: type.listKind, apiVersion: type.group === '' ? type.version : `${type.group}/${type.version}`, metadata: { resourceVersion: String(this.service.store.currentRv()) }, items });
  }
}

const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-meshdrill-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.22.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};


/** The index of the first key after `start` in ascending keys (items.length when none): a binary search. */
function firstAfter(keys: string[], start: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! > start) hi = mid;
    else lo = mid + 1;
  }
  return lo === keys.length ? -1 : lo;
}

function encodeContinue(key: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', start: key })).toString('base64url');
}

function decodeContinue(token: string | null): string | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { start?: unknown };
    if (typeof parsed.start === 'string') return parsed.start;
  } catch {
    // fall through
  }
  throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function isTrue(value: string | null): boolean {
  // As Go's strconv.ParseBool reads it: the Python client sends watch=True.
  return value !== null && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

function parseJsonOrYaml(raw: string, contentType: string | string[] | undefined): unknown {
  const type = String(contentType ?? 'application/json');
  if (type.includes('protobuf')) throw errors.unsupportedMediaType(type);
  const yaml = type.includes('yaml');
  try {
    return yaml ? parseYaml(raw) : JSON.parse(raw);
  } catch (error) {
    const what = yaml ? 'yaml' : 'json';
    throw errors.badRequest(`the body of the request was in an unknown format - couldn't get version/kind; ${what} parse error: ${(error as Error).message.split('\n')[0]}`);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      throw errors.tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendWrite(res: ServerResponse, status: number, result: WriteResult): void {
  const warnings = result.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  sendJson(res, status, result.object, warnings.length > 0 ? { Warning: warnings.join(', ') } : {});
}

function sendText(res: ServerResponse, status: number, text: string): true {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(text);
  return true;
}

function sendOr404(res: ServerResponse, body: unknown): true {
  if (body === undefined) {
    const error = errors.notFoundPath();
    return sendJson(res, error.code, error.toStatus());
  }
  return sendJson(res, 200, body);
}

// The real server's Content-Type for it (Accept asks for the @v1.0 form; Go's mime parser takes only this).
const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/**
 * The OpenAPI v2 document as gnostic's openapi_v2.Document protobuf (swagger = 1, info = 2 with
 * title = 1 and version = 2): the envelope only, no definitions. Built-in kinds and installed CRDs
 * are validated through /openapi/v3; this answers the fallback for kinds nobody serves.
 */
function openApiV2Protobuf(): Buffer {
  const field = (number: number, bytes: Buffer) => Buffer.concat([Buffer.from([(number << 3) | 2]), varint(bytes.length), bytes]);
  const text = (s: string) => Buffer.from(s, 'utf8');
  return Buffer.concat([field(1, text('2.0')), field(2, Buffer.concat([field(1, text('Kubernetes')), field(2, text(VERSION_INFO.gitVersion))]))]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
