import { ConfigError, Redactor } from '../core/index.js';
import { GitHubForge, githubRepoFromRemote, type GitHubAuth, type GitHubForgeOptions } from '../rollout/index.js';

/** Credentials from the environment: a token (GITHUB_TOKEN or GH_TOKEN) or a GitHub App. */
export function githubAuth(env: NodeJS.ProcessEnv): GitHubAuth | undefined {
  const token = env['GITHUB_TOKEN'] || env['GH_TOKEN'];
  if (token) return { token };
  const appId = env['GITHUB_APP_ID'];
  const privateKey = env['GITHUB_APP_PRIVATE_KEY'];
  const installationId = env['GITHUB_APP_INSTALLATION_ID'];
  if (appId && privateKey && installationId) return { appId, privateKey: privateKey.replace(/\\n/g, '\n'), installationId };
  return undefined;
}

function parseSlug(text: string): { owner: string; repo: string } {
  const [owner, repo, extra] = text.split('/');
  if (!owner || !repo || extra !== undefined) throw new ConfigError(`GITHUB_REPOSITORY: expected owner/name; found "${text}"`);
  return { owner, repo };
}

/**
 * A GitHub forge from the environment GitHub Actions sets (GITHUB_REPOSITORY, GITHUB_API_URL for
 * GitHub Enterprise Server, GITHUB_SERVER_URL) or, outside Actions, the git remote's URL.
 * Returns undefined when credentials or the repository are missing; `need` makes that an error.
 */
export function githubForgeFromEnv(
  env: NodeJS.ProcessEnv,
  options: { remoteUrl?: string; need?: string; logger: GitHubForgeOptions['logger']; secrets?: Redactor; tuning?: Pick<GitHubForgeOptions, 'rateLimitRetries' | 'writeIntervalMs' | 'retryAfterUnitMs'> },
): GitHubForge | undefined {
  const auth = githubAuth(env);
  const apiUrl = env['GITHUB_API_URL'];
  const host = env['GITHUB_SERVER_URL'] ? new URL(env['GITHUB_SERVER_URL']).host : 'github.com';
  const slug = env['GITHUB_REPOSITORY'] ? parseSlug(env['GITHUB_REPOSITORY']) : options.remoteUrl ? githubRepoFromRemote(options.remoteUrl, host) : undefined;
  if (!auth || !slug) {
    if (options.need === undefined) return undefined;
    if (!auth) throw new ConfigError(`${options.need} needs credentials: set GITHUB_TOKEN (or GH_TOKEN), or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID`);
    throw new ConfigError(`${options.need} needs the repository: set GITHUB_REPOSITORY=owner/name${options.remoteUrl !== undefined ? ', or a git remote on ' + host : ''}`);
  }
  return new GitHubForge({ ...slug, auth, ...(apiUrl && apiUrl !== 'https://api.github.com' ? { baseUrl: apiUrl } : {}), logger: options.logger, secrets: options.secrets ?? Redactor.fromEnv(env), ...(options.tuning ?? {}) });
}
