import type { ServerResponse } from 'node:http';
import type { Clock } from '../../../core/index.js';
import { resourceKey, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { ApiRequest } from './http.js';
import { asVersion, type ApiService } from './service.js';
import { errors } from './status.js';
import { toTable } from './table.js';
import type { KubeObject, StoreEvent, WatchEventType } from './types.js';

/**
 * A watch stream: newline-delimited `{type, object}` events. From resourceVersion "" or "0" it
 * starts with ADDED for every current object; from a given resourceVersion it replays what
 * changed since, or sends a 410 Expired error event when the log no longer reaches back.
 * Objects entering or leaving the selector appear as ADDED or DELETED, as on a real server.
 */
export function serveWatch(service: ApiService, type: ResourceType, namespace: string | undefined, request: ApiRequest, res: ServerResponse, options: { table: boolean; clock: Clock }): void {
  const q = request.url.searchParams;
  const labels = parseLabelSelector(q.get('labelSelector') ?? '');
  const fields = parseFieldSelector(q.get('fieldSelector') ?? '', type.resource);
  const key = resourceKey(type);
  const rvParam = q.get('resourceVersion') ?? '';
  const matches = (o: KubeObject) => (namespace === undefined || o.metadata.namespace === namespace) && matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o);
  const inSelection = new Set<string>();
  const encode = (eventType: string, object: unknown) => `${JSON.stringify({ type: eventType, object })}\n`;
  const render = (eventType: WatchEventType, stored: KubeObject) => {
    const object = asVersion(type, stored);
    return encode(eventType, options.table ? toTable(type.kind, [object], options.clock.now(), object.metadata.resourceVersion ?? '', q.get('includeObject') ?? 'Metadata') : object);
  };

  let backlog: StoreEvent[] = [];
  let initial: KubeObject[] = [];
  if (rvParam === '' || rvParam === '0') {
    initial = service.list(type, namespace).filter(matches);
  } else {
    const since = service.store.eventsSince(Number(rvParam), key);
    if (since === 'gone' || Number.isNaN(Number(rvParam))) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.end(encode('ERROR', errors.gone(rvParam).toStatus()));
      return;
    }
    backlog = since;
    // Objects that matched before the backlog are known to the client already.
    for (const o of service.list(type, namespace)) if (matches(o)) inSelection.add(o.metadata.uid ?? '');
    for (const event of backlog) if (event.type === 'ADDED') inSelection.delete(event.object.metadata.uid ?? '');
  }

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  const send = (event: StoreEvent): void => {
    const uid = event.object.metadata.uid ?? '';
    const now = event.type !== 'DELETED' && matches(event.object);
    const before = inSelection.has(uid);
    let outgoing: WatchEventType | undefined;
    if (event.type === 'DELETED') outgoing = before || matches(event.object) ? 'DELETED' : undefined;
    else if (now) outgoing = before ? 'MODIFIED' : 'ADDED';
    else if (before) outgoing = 'DELETED';
    if (now) inSelection.add(uid);
    else inSelection.delete(uid);
    if (outgoing) res.write(render(outgoing, event.object));
  };
  let text = '';
  for (const object of initial) {
    inSelection.add(object.metadata.uid ?? '');
    text += render('ADDED', object);
  }
  if (text) res.write(text);
  for (const event of backlog) send(event);
  const unsubscribe = service.store.subscribe((event) => {
    if (event.key === key) send(event);
  });
  const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
  // The connection's lifetime is wall time, whatever the cluster's clock.
  const timer = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
  const close = () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
  res.on('close', close);
  res.on('finish', close);
}
