import { z } from 'zod';

// Documents are parsed once per run: zod's compiled (JIT) validators cost more to build than they
// save. Set where every schema is built, before any is.
z.config({ jitless: true });

export const API_GROUP = 'meshdrill.dev';
export const API_VERSION = 'meshdrill.dev/v1alpha1';

// RFC 1123 label, the rule Kubernetes applies to namespace and service names.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/** A name as Kubernetes accepts it: lowercase alphanumerics and "-", at most 63 characters. */
export const DnsName = z
  .string()
  .max(63, { error: 'expected a name of at most 63 characters' })
  .regex(DNS_LABEL, { error: 'expected a DNS-1123 name (lowercase letters, digits and "-", starting and ending with a letter or digit)' })
  .describe('A DNS-1123 label: lowercase letters, digits and "-", at most 63 characters.');

export const Metadata = z
  .object({
    name: DnsName.describe('Name of this document, unique among documents of the same kind in a config repo.'),
    labels: z.record(z.string(), z.string()).optional().describe('Free-form labels.'),
    annotations: z.record(z.string(), z.string()).optional().describe('Free-form annotations.'),
  })
  .strict()
  .describe('Object metadata, as in Kubernetes.');
export type Metadata = z.infer<typeof Metadata>;

/** The envelope every meshdrill document shares; `spec` is kind-specific. */
export function documentSchema<K extends string, S extends z.ZodType>(kind: K, spec: S, description: string) {
  return z
    .object({
      apiVersion: z.literal(API_VERSION).describe(`Always "${API_VERSION}".`),
      kind: z.literal(kind).describe(`Always "${kind}".`),
      metadata: Metadata,
      spec,
    })
    .strict()
    .describe(description);
}
