/**
 * meshdrill's error classes. Each has a stable code and the exit code the CLI uses for it.
 * Adapters convert outside errors into these once, at the edge, keeping the cause.
 */
export class MeshdrillError extends Error {
  readonly code: string = 'MESHDRILL_ERROR';
  readonly exitCode: number = 3;
}

/** Bad config or bad arguments: the user can fix it. Exit 2. */
export class ConfigError extends MeshdrillError {
  override readonly name = 'ConfigError';
  override readonly code = 'CONFIG_ERROR';
  override readonly exitCode = 2;
}

/** A cluster could not be reached, created or changed: an infrastructure problem. Exit 3. */
export class ClusterError extends MeshdrillError {
  override readonly name = 'ClusterError';
  override readonly code = 'CLUSTER_ERROR';
  /** The API server's HTTP status, when it answered (409 Conflict or AlreadyExists, 404, …). */
  readonly status: number | undefined;

  constructor(message: string, options: ErrorOptions & { status?: number } = {}) {
    super(message, options);
    this.status = options.status;
  }
}

/**
 * The cluster is held by another run, or is not the one a journal was written on: meshdrill
 * refuses to touch it. Exit 3, like other cluster problems, with the holder or the mismatch named.
 */
export class ClusterRefused extends MeshdrillError {
  override readonly name = 'ClusterRefused';
  override readonly code = 'CLUSTER_REFUSED';
}

/** A git or forge operation failed: a dirty repo, a missing remote, a rejected push, GitHub's answer. Exit 3. */
export class GitError extends MeshdrillError {
  override readonly name = 'GitError';
  /** GitHub's HTTP status, when GitHub answered. */
  readonly status: number | undefined;

  constructor(message: string, options: ErrorOptions & { status?: number } = {}) {
    super(message, options);
    this.status = options.status;
  }
  override readonly code = 'GIT_ERROR';
}

/** A gate or hypothesis failed: an expected verdict, not a crash. Exit 1. */
export class GateFailed extends MeshdrillError {
  override readonly name = 'GateFailed';
  override readonly code = 'GATE_FAILED';
  override readonly exitCode = 1;
}
