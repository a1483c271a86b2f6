/**
 * Budgets for the YAML meshdrill reads, checked before parsing, so that a hostile pull request
 * (a few megabytes of flow sequence, a thousand-deep nesting) is refused in milliseconds instead
 * of costing gigabytes. No mesh config comes near them.
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Nodes, estimated from separators: commas, lines and brackets. */
export const MAX_YAML_NODES = 200_000;
/** Flow brackets open at once, or indentation in columns. */
export const MAX_YAML_DEPTH = 1_000;

/** Why a text is over budget, or undefined when it is within it; one pass, no allocation per node. */
export function yamlBudgetProblem(text: string): string | undefined {
  let nodes = 0;
  let depth = 0;
  let deepest = 0;
  let indent = 0;
  let widest = 0;
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      nodes++;
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      if (c === 32) {
        if (++indent > widest) widest = indent;
        continue;
      }
      lineStart = false;
    }
    if (c === 44) nodes++;
    else if (c === 91 || c === 123) {
      nodes++;
      if (++depth > deepest) deepest = depth;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  if (nodes > MAX_YAML_NODES) return `holds about ${nodes.toLocaleString('en-US')} YAML nodes; config files are limited to ${MAX_YAML_NODES.toLocaleString('en-US')}`;
  if (deepest > MAX_YAML_DEPTH || widest > MAX_YAML_DEPTH) return `nests ${Math.max(deepest, widest).toLocaleString('en-US')} levels deep; config files are limited to ${MAX_YAML_DEPTH.toLocaleString('en-US')}`;
  return undefined;
}
