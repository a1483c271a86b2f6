import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { YamlFileEditor } from './yaml-edit.js';

// Namespace documents as people write them: block or flow labels, labels or none, comments,
// anchors, quoted values, several documents to a file.
const label = fc.constantFrom('team: web', 'tier: "gold"', "owner: 'ops'", 'app.kubernetes.io/part-of: shop');
const comment = fc.constantFrom('', '  # who owns this\n', '# keep\n');
const namespaceDoc = fc.record({
  name: fc.constantFrom('payments', 'checkout', 'legacy', 'frontend'),
  labels: fc.array(label, { maxLength: 3 }),
  style: fc.constantFrom('block', 'flow', 'flow-spaced', 'none', 'flow-metadata'),
  comment,
  anchor: fc.boolean(),
});

function render(doc: { name: string; labels: string[]; style: string; comment: string; anchor: boolean }): string {
  const labels = [...new Set(doc.labels)];
  const head = `apiVersion: v1\nkind: Namespace\n${doc.comment}`;
  if (doc.style === 'flow-metadata') return `${head}metadata: {name: ${doc.name}${labels.length ? `, labels: {${labels.join(', ')}}` : ''}}\n`;
  const meta = `metadata:\n  name: ${doc.name}\n`;
  if (doc.style === 'none' || labels.length === 0) return `${head}${meta}${doc.anchor ? 'spec: &s {finalizers: [kubernetes]}\n' : ''}`;
  if (doc.style === 'block') return `${head}${meta}  labels:${doc.anchor ? ' &l' : ''}\n${labels.map((l) => `    ${l}\n`).join('')}`;
  return `${head}${meta}  labels: ${doc.style === 'flow-spaced' ? `{ ${labels.join(', ')} }` : `{${labels.join(', ')}}`}\n`;
}

const file = fc.array(namespaceDoc, { minLength: 1, maxLength: 4 }).map((docs) => docs.map(render).join('---\n'));

/** Labels every Namespace document of a text with `istio-injection: <value>` (null removes it). */
function mark(text: string, value: string | null): string {
  const editor = new YamlFileEditor(text);
  for (const doc of editor.docs) editor.setEntry(doc, ['metadata', 'labels'], 'istio-injection', value);
  return editor.toString();
}

describe('YamlFileEditor', () => {
  it('adds a label to every document and takes it out again, byte for byte, whatever the style', () => {
    fc.assert(
      fc.property(file, (text) => {
        const marked = mark(text, 'enabled');
        const docs = parseAllDocuments(marked) as Array<{ toJS(): { metadata: { labels?: Record<string, string> } } }>;
        // Every intended edit is present, and nothing else changed in any document.
        const before = (parseAllDocuments(text) as Array<{ toJS(): { metadata: { labels?: Record<string, string> } } }>).map((d) => d.toJS());
        docs.forEach((d, i) => expect(d.toJS()).toEqual({ ...before[i], metadata: { ...before[i]!.metadata, labels: { ...before[i]!.metadata.labels, 'istio-injection': 'enabled' } } }));
        expect(mark(marked, null)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the other documents\' edits when one document has to be re-serialised', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n    istio-injection: disabled # until stage 3\n';
    const editor = new YamlFileEditor(text);
    editor.setScalar(editor.docs[1]!, ['metadata', 'labels', 'istio-injection'], 'enabled');
    // A shape range edits do not cover: a new nested path in a flow map's document.
    editor.setScalar(editor.docs[0]!, ['spec', 'finalizers'], 'kubernetes');

    const out = editor.toString();

    expect(out).toContain('    istio-injection: enabled # until stage 3\n');
    expect(out.split('---\n')[0]).toContain('finalizers: kubernetes');
  });

  it('keeps a quoted value quoted the way it was', () => {
    const editor = new YamlFileEditor('metadata:\n  labels:\n    istio-injection: "disabled"\n    mode: \'x\'\n');
    editor.setScalar(editor.docs[0]!, ['metadata', 'labels', 'istio-injection'], 'enabled');
    editor.setScalar(editor.docs[0]!, ['metadata', 'labels', 'mode'], "it's");

    expect(editor.toString()).toBe('metadata:\n  labels:\n    istio-injection: "enabled"\n    mode: \'it\'\'s\'\n');
  });
});
