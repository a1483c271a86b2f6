import { parse as parseYaml } from 'yaml';
import type { Clock } from '../../../core/index.js';
import type { Random } from '../random.js';
import { applyDefaults } from './defaults.js';
import { checkAgainstSchema } from './crd-validation.js';
import { pruneUnknown, unknownFields } from './models.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { groupVersion, resourceKey, type ResourceType } from './resources.js';
import { ApiError, errors } from './status.js';
import type { ObjectStore } from './store.js';
import type { TypeRegistry } from './type-registry.js';
import type { KubeObject } from './types.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { validateName, validateObject } from './validation.js';
import { copyJson } from './store.js';
import { EventExpiry } from './event-ttl.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/**
 * An admission hook, as a webhook would be: it sees an object before it is stored and returns
 * it (possibly mutated) or throws an ApiError to reject the request. The mesh twin's injector is one.
 */
export type AdmissionHook = (request: { operation: Operation; type: ResourceType; object: KubeObject; old?: KubeObject }) => KubeObject;

/**
 * An object as a version of its resource serves it. Every version of a CustomResourceDefinition
 * shares one stored object; with `conversion: None` (the default, and what Istio's and Linkerd's
 * CRDs use) the server rewrites only apiVersion (kubernetes.io docs: custom resource definition
 * versioning, "None" conversion). Built-in types have one version here.
 */
export function asVersion(type: ResourceType, object: KubeObject): KubeObject {
  const wanted = groupVersion(type);
  if (object.apiVersion === wanted || object.apiVersion === undefined) return object;
  return Object.freeze({ ...object, apiVersion: wanted });
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  subresource?: string;
  force?: boolean;
  /** The cluster itself, at bootstrap only (never from a request): an object's uid, not a generated one. */
  uid?: string;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  created?: boolean;
}

type Obj = Record<string, unknown>;

/**
 * The API server's semantics, independent of HTTP: validation, defaulting, admission,
 * optimistic concurrency, generation, status subresources, cascading deletion.
 * The HTTP layer and the in-process controllers both write through here.
 */
export class ApiService {
  private readonly admission: AdmissionHook[] = [];
  /**
   * The stored object's fingerprint (see Fingerprint) by resource, namespace and name, for the
   * write after the one that stored it. Only the current version's: older ones are dropped.
   */
  private readonly fingerprints = new Map<string, { object: KubeObject; print: Fingerprint }>();
  private nextIp = 0;
  /** Events are deleted an --event-ttl after their last write (event-ttl.ts). */
  private readonly eventExpiry: EventExpiry;

  constructor(
    readonly store: ObjectStore,
    readonly types: TypeRegistry,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {
    store.subscribe((event) => {
      if (event.type === 'DELETED') this.fingerprints.delete(fingerprintSlot(event.key, event.object));
    });
    this.eventExpiry = new EventExpiry(store, clock, (namespace, name, resourceVersion) => {
      const type = this.types.builtinResource('events');
      if (type && this.find(type, namespace, name)?.metadata.resourceVersion === resourceVersion) this.delete(type, namespace, name);
    });
  }

  /** After a saved state is loaded: its events expire an --event-ttl after their last write. */
  trackRestoredEvents(): void {
    const type = this.types.builtinResource('events');
    if (!type) return;
    const lastWrite = (e: KubeObject) => Math.max(Date.parse(e.metadata.creationTimestamp ?? '') || 0, Date.parse(String(e['lastTimestamp'] ?? '')) || 0);
    for (const event of this.list(type).sort((a, b) => lastWrite(a) - lastWrite(b))) this.eventExpiry.track(event, lastWrite(event));
  }

  addAdmissionHook(hook: AdmissionHook): () => void {
    this.admission.push(hook);
    return () => this.admission.splice(this.admission.indexOf(hook), 1);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.store.get(resourceKey(type), type.namespaced ? namespace : undefined, name);
    if (!found) throw errors.notFound(type, name);
    return asVersion(type, found);
  }

  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.store.get(resourceKey(type), type.namespaced ? namespace : undefined, name);
    return found && asVersion(type, found);
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions = {}): WriteResult {
    const warnings: string[] = [];
    const object = this.prepareIncoming(type, namespace, body, options, warnings);
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = `${object.metadata.generateName}${this.random.suffix(5)}`;
    const name = object.metadata.name;
    if (!name) throw errors.invalid(type.kind, type.group, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    const nameCauses = validateName(type.kind, name);
    if (nameCauses.length > 0) throw errors.invalid(type.kind, type.group, name, nameCauses);
    if (type.namespaced) this.requireNamespace(object.metadata.namespace);
    if (this.store.get(resourceKey(type), object.metadata.namespace, name)) throw errors.alreadyExists(type, name);
    applyDefaults(object, { allocateClusterIp: () => this.allocateClusterIp() });
    const causes = validateObject(object);
    if (causes.length > 0) throw errors.invalid(type.kind, type.group, name, causes);
    if (type.kind === 'Pod' && type.group === '') this.requireServiceAccount(object);
    const admitted = this.admit('CREATE', type, object);
    const meta = admitted.metadata;
    meta.uid = options.uid ?? this.random.uuid();
    meta.creationTimestamp = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (admitted.spec !== undefined) meta.generation = 1;
    delete meta.resourceVersion;
    if (options.fieldManager) meta.managedFields = [managedEntry(options.fieldManager, type, 'Update', this.clock.now())];
    if (!options.dryRun) this.commit(type, admitted, 'ADDED');
    this.afterWrite(type, admitted, options);
    return { object: admitted, warnings, created: true };
  }

  /** PUT: replace the object (or its status / scale subresource). */
  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, options: WriteOptions = {}): WriteResult {
    const current = this.get(type, namespace, name);
    const warnings: string[] = [];
    if (options.subresource === 'scale') return this.updateScale(type, current, body, options);
    const incoming = this.prepareIncoming(type, namespace, body, options, warnings, name);
    const expected = incoming.metadata.resourceVersion;
    if (expected === undefined || expected === '') {
      throw errors.invalid(type.kind, type.group, name, [
        { reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' },
      ]);
    }
    if (expected !== current.metadata.resourceVersion) throw errors.conflict(type, name);
    return this.replaceWith(type, current, incoming, options, warnings);
  }

  /** PATCH in any of the four content types kubectl and client-node send. Server-side apply creates. */
  patch(type: ResourceType, namespace: string | undefined, name: string, contentType: string, raw: string, options: WriteOptions = {}): WriteResult {
    const mediaType = contentType.split(';')[0]!.trim();
    const isApply = mediaType === 'application/apply-patch+yaml' || mediaType === 'application/apply-patch+cbor';
    if (mediaType === 'application/strategic-merge-patch+json' && type.model === undefined) throw errors.unsupportedMediaType(mediaType);
    return this.patchWith(type, namespace, name, mediaType, parseBody(raw, isApply), options);
  }

  /**
   * PATCH with the body already decoded: what an in-process client sends (the same object it
   * would serialise), and where `patch` goes once it has parsed the request's text.
   */
  patchWith(type: ResourceType, namespace: string | undefined, name: string, mediaType: string, patchBody: unknown, options: WriteOptions = {}): WriteResult {
    const isApply = mediaType === 'application/apply-patch+yaml' || mediaType === 'application/apply-patch+cbor';
    if (mediaType === 'application/strategic-merge-patch+json' && type.model === undefined) throw errors.unsupportedMediaType(mediaType);
    const current = this.find(type, namespace, name);
    if (!current) {
      if (!isApply) throw errors.notFound(type, name);
      const applied = { ...(patchBody as Obj), metadata: { ...((patchBody as Obj)['metadata'] as Obj), name } };
      return this.create(type, namespace, applied, { ...options, fieldManager: options.fieldManager ?? 'unknown' });
    }
    const base = options.subresource === 'scale' ? this.scaleOf(type, current) : current;
    let patched: unknown;
    if (mediaType === 'application/json-patch+json') patched = jsonPatch(base, patchBody);
    else if (mediaType === 'application/merge-patch+json') patched = mergePatch(base, patchBody);
    else if (mediaType === 'application/strategic-merge-patch+json' || isApply) patched = strategicMergePatch(base, patchBody);
    else throw errors.unsupportedMediaType(mediaType);
    if (options.subresource === 'scale') return this.updateScale(type, current, patched, options);
    const result = patched as KubeObject;
    if (!result || typeof result !== 'object' || !result.metadata) throw errors.badRequest('patch removed the object metadata');
    // A patch may carry a resourceVersion precondition; otherwise it applies to the current version.
    const expected = (patchBody as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
    if (expected && expected !== current.metadata.resourceVersion) throw errors.conflict(type, name);
    result.metadata = { ...result.metadata, resourceVersion: current.metadata.resourceVersion };
    const warnings: string[] = [];
    const incoming = this.prepareIncoming(type, namespace, result, options, warnings, name);
    if (isApply && options.fieldManager) incoming.metadata.managedFields = mergeManaged(current.metadata.managedFields, managedEntry(options.fieldManager, type, 'Apply', this.clock.now()));
    return this.replaceWith(type, current, incoming, options, warnings);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: { propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: boolean } = {}): KubeObject {
    const current = this.get(type, namespace, name);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== current.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) throw errors.conflict(type, name);
    if (options.dryRun) return current;
    // A namespace is deleted as a real API server deletes it: it turns Terminating at once, and
    // the namespace controller removes its contents, then it, once its finalizer is done.
    if (type.kind === 'Namespace') return this.terminate(type, current);
    const deleted = { ...current, metadata: { ...current.metadata, deletionTimestamp: isoNow(this.clock), resourceVersion: String(this.store.nextRv()) } };
    this.store.remove(resourceKey(type), deleted);
    this.cascade(type, deleted, options.propagationPolicy ?? 'Background');
    return deleted;
  }

  private terminate(type: ResourceType, current: KubeObject): KubeObject {
    if (current.metadata['deletionTimestamp']) return current;
    const terminating = copyJson(current);
    terminating.metadata['deletionTimestamp'] = isoNow(this.clock);
    terminating.status = { ...((current.status as Obj | undefined) ?? {}), phase: 'Terminating' };
    this.commit(type, terminating, 'MODIFIED');
    return terminating;
  }

  /**
   * The namespace controller's work on a Terminating namespace: its contents go, its `kubernetes`
   * finalizer is removed, and with no finalizers left it is gone.
   */
  finalizeNamespace(name: string): void {
    const type = this.types.find('', 'v1', 'namespaces')!;
    const current = this.store.get('namespaces', undefined, name);
    if (!current?.metadata['deletionTimestamp']) return;
    const gone = { ...current, metadata: { ...current.metadata, resourceVersion: String(this.store.nextRv()) } };
    this.cascade(type, gone, 'Background');
    const left = ((current.spec as Obj | undefined)?.['finalizers'] as string[] | undefined)?.filter((f) => f !== 'kubernetes') ?? [];
    if (left.length > 0 || (current.metadata['finalizers'] as string[] | undefined)?.length) {
      const waiting = copyJson(current);
      waiting.spec = { ...((current.spec as Obj | undefined) ?? {}), finalizers: left };
      this.commit(type, waiting, 'MODIFIED');
      return;
    }
    this.store.remove('namespaces', gone);
  }

  /** A list request's objects: those matching the label and field selectors, unsorted. */
  select(type: ResourceType, namespace: string | undefined, selectors: { labelSelector?: string | null; fieldSelector?: string | null } = {}): KubeObject[] {
    const labels = parseLabelSelector(selectors.labelSelector ?? '');
    const fields = parseFieldSelector(selectors.fieldSelector ?? '', type.resource);
    const all = this.list(type, namespace);
    if (labels.length === 0 && fields.length === 0) return all;
    return all.filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
  }

  list(type: ResourceType, namespace?: string): KubeObject[] {
    const objects = this.store.list(resourceKey(type), type.namespaced ? namespace : undefined);
    // A built-in type has one version, the one every stored object of it carries.
    if (type.model !== undefined) return objects;
    const wanted = groupVersion(type);
    return objects.some((o) => o.apiVersion !== wanted) ? objects.map((o) => asVersion(type, o)) : objects;
  }

  /** The autoscaling/v1 Scale view of a workload. */
  scaleOf(type: ResourceType, object: KubeObject): KubeObject {
    const spec = (object.spec ?? {}) as Obj;
    const status = (object.status ?? {}) as Obj;
    const selector = (spec['selector'] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: object.metadata.name, namespace: object.metadata.namespace, uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion, creationTimestamp: object.metadata.creationTimestamp },
      spec: { replicas: spec['replicas'] ?? 0 },
      status: { replicas: status['replicas'] ?? 0, selector: Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') },
    };
  }

  private updateScale(type: ResourceType, current: KubeObject, body: unknown, options: WriteOptions): WriteResult {
    if (!type.subresources.includes('scale')) throw errors.notFoundPath();
    const replicas = (body as { spec?: { replicas?: unknown } } | null)?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid('Scale', 'autoscaling', current.metadata.name, [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    }
    const expected = (body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (expected && expected !== current.metadata.resourceVersion) throw errors.conflict(type, current.metadata.name);
    const next = copyJson(current);
    (next.spec as Obj)['replicas'] = replicas;
    const result = this.replaceWith(type, current, next, { ...options, subresource: undefined }, []);
    return { object: this.scaleOf(type, result.object), warnings: [] };
  }

  /** Writes `incoming` over `current`, keeping what the request may not change. */
  private replaceWith(type: ResourceType, current: KubeObject, incoming: KubeObject, options: WriteOptions, warnings: string[]): WriteResult {
    let next: KubeObject;
    const hasStatus = type.subresources.includes('status');
    if (options.subresource === 'status') {
      next = { ...copyJson(current), status: incoming.status };
    } else {
      next = incoming;
      if (hasStatus) next.status = current.status;
    }
    next.metadata = {
      ...next.metadata,
      name: current.metadata.name,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: current.metadata.generation,
    };
    if (current.metadata.deletionTimestamp) next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    if (!next.metadata.managedFields && current.metadata.managedFields) next.metadata.managedFields = current.metadata.managedFields;
    applyDefaults(next, { allocateClusterIp: () => String((current.spec as Obj | undefined)?.['clusterIP'] ?? this.allocateClusterIp()) });
    if (type.kind === 'Service') (next.spec as Obj)['clusterIP'] = (current.spec as Obj | undefined)?.['clusterIP'];
    const causes = validateObject(next);
    if (causes.length > 0) throw errors.invalid(type.kind, type.group, current.metadata.name, causes);
    const admitted = options.subresource === 'status' ? next : this.admit('UPDATE', type, next, current);
    const slot = fingerprintSlot(resourceKey(type), current);
    const known = this.fingerprints.get(slot);
    const before = known?.object === current ? known.print : fingerprint(current);
    // A status write carries the stored object's other fields over as they are (copied above):
    // its spec cannot have moved, and is not serialised again.
    const after = fingerprint(admitted, options.subresource === 'status' ? before.rest : undefined);
    const specMoved = before.rest !== after.rest;
    if (admitted.spec !== undefined && specMoved) admitted.metadata.generation = (current.metadata.generation ?? 0) + 1;
    if (!specMoved && sameObject(before, after)) {
      // A no-op write keeps the resourceVersion, as a real server does.
      if (known?.object !== current) this.fingerprints.set(slot, { object: current, print: before });
      return { object: current, warnings };
    }
    // What the next write compares with (when the generation moved, it is worked out again then).
    if (!specMoved && !options.dryRun) this.fingerprints.set(slot, { object: admitted, print: after });
    if (!options.dryRun) this.commit(type, admitted, 'MODIFIED');
    this.afterWrite(type, admitted, options);
    return { object: admitted, warnings };
  }

  /** Parses, checks and normalises a request body into a fresh object. */
  private prepareIncoming(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions, warnings: string[], name?: string): KubeObject {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the body of the request must be a JSON or YAML object');
    // A status write keeps only the body's metadata and status (replaceWith takes the rest from the
    // stored object): those are copied, the rest is read and never changed.
    const raw = body as Obj;
    let object = (options.subresource === 'status' ? statusWriteCopy(raw) : copyJson(body)) as KubeObject;
    const expectedApiVersion = groupVersion(type);
    const kind = object.kind;
    if (options.subresource !== 'status') {
      if (kind !== undefined && kind !== type.kind) throw errors.badRequest(`the kind in the body (${String(kind)}) does not match the kind of the request (${type.kind})`);
      if (object.apiVersion !== undefined && object.apiVersion !== expectedApiVersion) {
        throw errors.badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expectedApiVersion})`);
      }
    }
    object.kind = type.kind;
    object.apiVersion = expectedApiVersion;
    if (object.metadata === undefined || object.metadata === null || typeof object.metadata !== 'object') object.metadata = { name: name ?? '' };
    if (name !== undefined && object.metadata.name && object.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (name !== undefined) object.metadata.name = name;
    if (type.namespaced) {
      if (object.metadata.namespace && namespace && object.metadata.namespace !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      object.metadata.namespace = namespace ?? object.metadata.namespace;
      if (!object.metadata.namespace) throw errors.badRequest('the namespace of the object is missing');
    } else {
      delete object.metadata.namespace;
    }
    dropEmptyMetadata(object.metadata);
    if (type.crdSchema && options.subresource !== 'status') {
      // Custom resources: the CRD's schema, enforced as apiextensions-apiserver enforces it.
      const checked = checkAgainstSchema(type.crdSchema, object as unknown as Record<string, unknown>);
      if (checked.causes.length > 0) throw errors.invalid(type.kind, type.group, object.metadata.name || name || '', checked.causes);
      if (checked.unknown.length > 0) {
        if (options.fieldValidation === 'Strict') throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${checked.unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
        if (options.fieldValidation !== 'Ignore') warnings.push(...checked.unknown.map((f) => `unknown field "${f}"`));
        object = checked.pruned as KubeObject;
      }
    }
    if (type.model) {
      const unknown = unknownFields(type.model, object);
      if (unknown.length > 0) {
        if (options.fieldValidation === 'Strict') {
          throw errors.badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
        }
        if (options.fieldValidation !== 'Ignore') warnings.push(...unknown.map((f) => `unknown field "${f}"`));
        object = pruneUnknown(type.model, object) as KubeObject;
      }
    }
    return object;
  }

  private admit(operation: Operation, type: ResourceType, object: KubeObject, old?: KubeObject): KubeObject {
    let current = object;
    for (const hook of this.admission) current = hook({ operation, type, object: current, ...(old ? { old } : {}) });
    return current;
  }

  private commit(type: ResourceType, object: KubeObject, event: 'ADDED' | 'MODIFIED'): void {
    object.metadata.resourceVersion = String(this.store.nextRv());
    this.store.put(resourceKey(type), object, event);
  }

  private afterWrite(type: ResourceType, object: KubeObject, options: WriteOptions): void {
    if (type.kind === 'CustomResourceDefinition' && !options.dryRun) this.types.syncCrds(this.list(type));
  }

  /**
   * The ServiceAccount admission plugin: a pod runs as an account that exists. `default` is made by
   * the controller manager as a namespace appears, so it is taken as there (the race is not played).
   */
  private requireServiceAccount(pod: KubeObject): void {
    const namespace = pod.metadata.namespace ?? '';
    const account = String((pod.spec as Obj | undefined)?.['serviceAccountName'] ?? 'default');
    if (account === 'default' || this.store.get('serviceaccounts', namespace, account)) return;
    throw errors.forbidden(`pods "${pod.metadata.name}" is forbidden: error looking up service account ${namespace}/${account}: serviceaccount "${account}" not found`);
  }

  private requireNamespace(namespace: string | undefined): void {
    if (!namespace) throw errors.badRequest('the namespace of the object is missing');
    const found = this.store.get('namespaces', undefined, namespace);
    if (!found) throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
    // The NamespaceLifecycle admission plugin's words.
    if (found.metadata['deletionTimestamp']) throw errors.forbidden(`unable to create new content in namespace ${namespace} because it is being terminated`);
  }

  /** Deletes dependents (ownerReferences) or orphans them; a namespace takes its contents along. */
  private cascade(type: ResourceType, owner: KubeObject, policy: string): void {
    if (type.kind === 'Namespace') {
      for (const key of this.store.keys()) {
        for (const object of this.store.list(key, owner.metadata.name)) {
          const deleted = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.store.nextRv()) } };
          this.store.remove(key, deleted);
        }
      }
      return;
    }
    if (type.kind === 'CustomResourceDefinition') {
      this.types.syncCrds(this.list(type));
      return;
    }
    const uid = owner.metadata.uid;
    if (!uid) return;
    for (const key of this.store.keys()) {
      const candidates = this.store.list(key, owner.metadata.namespace);
      for (const dependent of candidates) {
        if (!dependent.metadata.ownerReferences?.some((ref) => ref.uid === uid)) continue;
        const dependentType = this.types.byKey(key);
        if (!dependentType) continue;
        if (policy === 'Orphan') {
          const orphaned = copyJson(dependent);
          orphaned.metadata.ownerReferences = dependent.metadata.ownerReferences.filter((ref) => ref.uid !== uid);
          if (orphaned.metadata.ownerReferences.length === 0) delete orphaned.metadata.ownerReferences;
          this.commit(dependentType, orphaned, 'MODIFIED');
        } else {
          this.delete(dependentType, dependent.metadata.namespace, dependent.metadata.name, { propagationPolicy: policy });
        }
      }
    }
  }

  private allocateClusterIp(): string {
    const n = ++this.nextIp;
    return `10.96.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`;
  }
}

function parseBody(raw: string, yaml: boolean): unknown {
  try {
    return yaml ? parseYaml(raw) : JSON.parse(raw);
  } catch (error) {
    throw errors.badRequest(`error decoding patch: ${(error as Error).message.split('\n')[0]}`);
  }
}

function statusWriteCopy(raw: Obj): Obj {
  const copy = { ...raw };
  if ('metadata' in raw) copy['metadata'] = copyJson(raw['metadata']);
  if ('status' in raw) copy['status'] = copyJson(raw['status']);
  return copy;
}

/** "namespace/name" ("/name" when cluster-scoped): what a list is ordered and continued by. */
export function namespacedName(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The order a list response has: by namespace, then name. */
export function byNamespaceName(a: KubeObject, b: KubeObject): number {
  const ka = namespacedName(a);
  const kb = namespacedName(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * An object as a write compares it, in parts: its fields other than metadata and status (a change
 * there is a new generation), its metadata but resourceVersion and managedFields, its status, and
 * the order of its fields. Two objects whose parts are equal serialise equally but for those two
 * volatile fields (a no-op write). The stored version's is kept for the next write (fingerprints).
 */
interface Fingerprint {
  keys: string;
  rest: string;
  metadata: string;
  status: string;
}

/** Where a stored object's fingerprint is kept: its resource, namespace and name. */
function fingerprintSlot(key: string, o: KubeObject): string {
  return `${key}|${namespacedName(o)}`;
}

function fingerprint(o: KubeObject, knownRest?: string): Fingerprint {
  const { metadata, status, ...rest } = o;
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata;
  const print = {
    keys: Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined).join(','),
    rest: knownRest ?? JSON.stringify(rest),
    metadata: JSON.stringify(meta),
    status: JSON.stringify(status) ?? '',
  };
  return print;
}

function sameObject(a: Fingerprint, b: Fingerprint): boolean {
  return a.rest === b.rest && a.status === b.status && a.metadata === b.metadata && a.keys === b.keys;
}

function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function managedEntry(manager: string, type: ResourceType, operation: 'Apply' | 'Update', now: number): Record<string, unknown> {
  return { manager, operation, apiVersion: groupVersion(type), time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: {} };
}

function mergeManaged(existing: unknown[] | undefined, entry: Record<string, unknown>): unknown[] {
  const others = (existing ?? []).filter((e) => (e as { manager?: string; operation?: string }).manager !== entry['manager'] || (e as { operation?: string }).operation !== entry['operation']);
  return [...others, entry];
}

/**
 * ObjectMeta's maps and lists are `omitempty` in the Go types, so a real server never returns an
 * empty `labels: {}` or `annotations: {}` (kubectl diff would show them as changes).
 */
function dropEmptyMetadata(metadata: KubeObject['metadata']): void {
  const fields = metadata as unknown as Record<string, unknown>;
  for (const field of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
    const value = fields[field];
    if (value !== null && typeof value === 'object' && Object.keys(value).length === 0) delete fields[field];
  }
}
