import type { IncomingMessage, ServerResponse } from 'node:http';

// What the API server's handlers and its extra routes (admin API, watch, metrics) share.
export interface ApiRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
}

/** Handles a path the API server does not own (admin API, metrics); returns false to pass. */
export type ExtraRoute = (request: ApiRequest, body: () => Promise<string>, res: ServerResponse) => Promise<boolean> | boolean;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  return sendJsonText(res, status, JSON.stringify(body), headers);
}

/** A body already serialised (a list built from each object's kept JSON). */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
  return true;
}
