import { matchesLabels, requirementsFromSelector } from './selectors.js';
import type { StatusCause } from './status.js';
import type { KubeObject } from './types.js';

// Messages are the API server's own (k8s.io/apimachinery/pkg/util/validation), so kubectl output matches.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** Kinds whose names must be DNS-1123 labels (they become DNS names themselves). */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

export function validateName(kind: string, name: string): StatusCause[] {
  if (LABEL_NAMED.has(kind)) {
    if (name.length > 63) return [invalid('metadata.name', name, 'must be no more than 63 characters')];
    if (!DNS1123_LABEL.test(name)) return [invalid('metadata.name', name, LABEL_MESSAGE)];
    return [];
  }
  if (name.length > 253) return [invalid('metadata.name', name, 'must be no more than 253 characters')];
  if (!DNS1123_SUBDOMAIN.test(name)) return [invalid('metadata.name', name, SUBDOMAIN_MESSAGE)];
  return [];
}

function invalid(field: string, value: unknown, message: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${message}` };
}

function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', field, message: 'Required value' };
}

type Obj = Record<string, unknown>;

function containersCauses(spec: Obj | undefined, prefix: string): StatusCause[] {
  const containers = spec?.['containers'];
  if (!Array.isArray(containers) || containers.length === 0) return [required(`${prefix}.containers`)];
  const causes: StatusCause[] = [];
  for (const [i, c] of (containers as Obj[]).entries()) {
    if (!c['name']) causes.push(required(`${prefix}.containers[${i}].name`));
    if (!c['image']) causes.push(required(`${prefix}.containers[${i}].image`));
  }
  return causes;
}

function workloadCauses(object: KubeObject): StatusCause[] {
  const spec = object.spec as Obj | undefined;
  const selector = spec?.['selector'] as Parameters<typeof requirementsFromSelector>[0] | undefined;
  const template = spec?.['template'] as { metadata?: { labels?: Record<string, string> }; spec?: Obj } | undefined;
  const causes: StatusCause[] = [];
  if (!selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
    causes.push(required('spec.selector'));
  } else if (!matchesLabels(requirementsFromSelector(selector), template?.metadata?.labels)) {
    causes.push(invalid('spec.template.metadata.labels', template?.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  causes.push(...containersCauses(template?.spec, 'spec.template.spec'));
  const replicas = spec?.['replicas'];
  if (typeof replicas === 'number' && replicas < 0) causes.push(invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
  return causes;
}

const RULES: Record<string, (object: KubeObject) => StatusCause[]> = {
  Pod: (o) => containersCauses(o.spec as Obj | undefined, 'spec'),
  Deployment: workloadCauses,
  ReplicaSet: workloadCauses,
  StatefulSet: workloadCauses,
  DaemonSet: workloadCauses,
  Service: (o) => {
    const spec = (o.spec ?? {}) as Obj;
    const ports = spec['ports'];
    if (spec['clusterIP'] !== 'None' && (!Array.isArray(ports) || ports.length === 0) && spec['type'] !== 'ExternalName') return [required('spec.ports')];
    return [];
  },
};

/** Kind-specific checks beyond names: required fields and selector/template agreement. */
export function validateObject(object: KubeObject): StatusCause[] {
  return RULES[object.kind]?.(object) ?? [];
}
