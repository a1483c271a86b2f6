/** A metav1.Status failure, as a real API server sends it. */
export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number },
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function qualified(kind: { resource: string; group: string }): string {
  return kind.group === '' ? kind.resource : `${kind.resource}.${kind.group}`;
}

export const errors = {
  notFound: (kind: { resource: string; group: string }, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(kind)} "${name}" not found`, { name, group: kind.group, kind: kind.resource }),
  alreadyExists: (kind: { resource: string; group: string }, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(kind)} "${name}" already exists`, { name, group: kind.group, kind: kind.resource }),
  conflict: (kind: { resource: string; group: string }, name: string) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(kind)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: kind.group, kind: kind.resource },
    ),
  invalid: (kindName: string, group: string, name: string, causes: StatusCause[]) =>
    new ApiError(
      422,
      'Invalid',
      `${kindName}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ')}`,
      { name, group, kind: kindName, causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })) },
    ),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  invalidPatch: (message: string) => new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`),
  notFoundPath: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource'),
  methodNotAllowed: () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  unsupportedMediaType: (type: string) => new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; found ${type}`),
  tooLarge: () => new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'),
  gone: (rv: string) => new ApiError(410, 'Expired', `too old resource version: ${rv}`),
  forbidden: (message: string) => new ApiError(403, 'Forbidden', message),
  internal: (message: string) => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`),
};
