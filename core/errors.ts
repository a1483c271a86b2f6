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
}

/** A git operation failed: a dirty repo, a missing remote, a rejected push. Exit 3. */
export class GitError extends MeshdrillError {
  override readonly name = 'GitError';
  override readonly code = 'GIT_ERROR';
}

/** A gate or hypothesis failed: an expected verdict, not a crash. Exit 1. */
export class GateFailed extends MeshdrillError {
  override readonly name = 'GateFailed';
  override readonly code = 'GATE_FAILED';
  override readonly exitCode = 1;
}
