/**
 * The one place secrets are taken out of text: everything meshdrill prints, logs, records or posts
 * passes through a Redactor. It knows the secret values it was given (tokens from the environment,
 * kubeconfig credentials, Prometheus passwords) and the shapes of tokens nobody told it about.
 */
export const REDACTED = '[redacted]';

// Token shapes: GitHub's (ghp_ personal, gho_ OAuth, ghu_ user-to-server, ghs_ installation,
// ghr_ refresh, github_pat_ fine-grained), JSON Web Tokens, and PEM private keys.
const SHAPES: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,255}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,255}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g,
];

// Environment variables whose values are secrets whatever they look like.
const SECRET_NAME = /(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE_KEY|API_KEY|CREDENTIALS?)($|_)/i;

/** Shorter values are not redacted: "1" or "true" under a secret-looking name would blank out text everywhere. */
const MIN_SECRET = 6;

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Secrets from the environment: every variable whose name says it holds one. */
  static fromEnv(env: NodeJS.ProcessEnv): Redactor {
    const redactor = new Redactor();
    for (const [name, value] of Object.entries(env)) if (value && SECRET_NAME.test(name)) redactor.add(value);
    return redactor;
  }

  /** Learns a secret; it and its base64 and URL-encoded forms never appear in redacted text. */
  add(...values: Array<string | undefined>): this {
    for (const value of values) {
      if (!value || value.length < MIN_SECRET) continue;
      for (const form of [value, value.trim(), Buffer.from(value).toString('base64'), encodeURIComponent(value)]) if (form.length >= MIN_SECRET) this.secrets.add(form);
      // A multi-line secret (a PEM key) is also hidden line by line, where a log cut it into lines.
      for (const line of value.split('\n')) if (line.trim().length >= 24) this.secrets.add(line.trim());
    }
    return this;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is hidden whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const shape of SHAPES) out = out.replace(shape, REDACTED);
    return out;
  }

  /** A JSON value with every string in it redacted (request bodies, records). */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactDeep(v)])) as T;
    }
    return value;
  }
}
