import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClusterError, type Logger } from '../../core/index.js';

export { DEFAULT_K3S_KUBERNETES, K3S_IMAGES, k3sImage } from '../images.js';
import { k3sImage } from '../images.js';

/** What meshdrill needs of a started k3s container (testcontainers' StartedK3sContainer). */
export interface StartedK3s {
  getKubeConfig(): string;
  getId(): string;
  stop(): Promise<unknown>;
}

export interface K3sOptions {
  runDir: string;
  runId: string;
  kubernetesVersion?: string;
  /** k3s through testcontainers is one node; more are reported, not pretended. */
  nodes?: number;
  keep: boolean;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Starts the container; the default uses @testcontainers/k3s. Tests replace it. */
  start?: (image: string) => Promise<StartedK3s>;
}

export interface K3sCluster extends AsyncDisposable {
  name: string;
  kubeconfig: string;
  kubeconfigPath: string;
  image: string;
  close(): Promise<void>;
}

/** What meshdrill uses of @testcontainers/k3s, an optional dependency (it brings its own native modules). */
interface K3sModule {
  K3sContainer: new (image: string) => { start(): Promise<StartedK3s> };
}

/**
 * Loads @testcontainers/k3s, installed as an optional dependency: only the k3s provider needs it,
 * and an install without it (`npm install --omit=optional`) still runs every other provider.
 */
export async function loadTestcontainersK3s(specifier = '@testcontainers/k3s'): Promise<K3sModule> {
  try {
    // A specifier in a variable: the compiler does not need the package to build meshdrill.
    return (await import(specifier)) as K3sModule;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new ClusterError(`provider k3s needs the optional package ${specifier}, which is not installed; install it with \`npm install ${specifier}\`, or use provider kind or sim`, { cause: error });
    throw error;
  }
}

async function startWithTestcontainers(image: string): Promise<StartedK3s> {
  const { K3sContainer } = await loadTestcontainersK3s();
  return new K3sContainer(image).start();
}

/** testcontainers' words when it finds no Docker (or Podman) engine to talk to. */
const NO_RUNTIME = /container runtime strategy|Could not find a working container runtime|connect ENOENT|ECONNREFUSED.*docker|docker\.sock/i;

/**
 * A one-node k3s cluster in a container, through testcontainers: a second real option where
 * Docker is present but kind is not. The kubeconfig is written into the run folder (never the
 * user's). `await using cluster = await provisionK3s(...)` stops it when the scope ends.
 */
export async function provisionK3s(options: K3sOptions): Promise<K3sCluster> {
  const image = k3sImage(options.kubernetesVersion);
  if ((options.nodes ?? 1) > 1) options.logger.warn({ nodes: options.nodes }, `k3s through testcontainers runs one node; nodes: ${options.nodes} is not honoured (use provider kind for several nodes)`);
  options.logger.info({ image }, `starting k3s (${image}) through testcontainers`);
  const start = options.start ?? startWithTestcontainers;
  let container: StartedK3s;
  try {
    container = await start(image);
  } catch (error) {
    const message = (error as Error).message;
    if (NO_RUNTIME.test(message)) throw new ClusterError(`provider k3s needs a Docker (or Podman) engine that testcontainers can reach, and found none (${message.split('\n')[0]}); start Docker, set DOCKER_HOST, or use provider sim`, { cause: error });
    throw new ClusterError(`k3s (${image}) did not start: ${message.split('\n')[0]}`, { cause: error });
  }
  const name = `meshdrill-k3s-${container.getId().slice(0, 12)}`;
  await mkdir(options.runDir, { recursive: true });
  const kubeconfigPath = join(options.runDir, 'kubeconfig');
  const kubeconfig = container.getKubeConfig();
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (options.keep) {
      // testcontainers' reaper removes the container when this process exits, unless it is disabled.
      options.logger.info({ name }, `kept k3s container ${name} while this process lives; set TESTCONTAINERS_RYUK_DISABLED=true to keep it after, and \`docker rm -f ${container.getId().slice(0, 12)}\` to remove it`);
      return;
    }
    await container.stop();
  };
  return { name, kubeconfig, kubeconfigPath, image, close, [Symbol.asyncDispose]: close };
}
