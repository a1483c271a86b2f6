/**
 * A repo-relative path glob as .gitignore-style tools write them: `*` and `?` within one path
 * segment, `**` for any number of segments, `{a,b}` alternatives; a pattern ending in `/` or
 * naming a directory matches everything below it.
 */
export function globMatcher(pattern: string): (path: string) => boolean {
  let p = pattern.replace(/^\.\//, '');
  if (p.endsWith('/')) p += '**';
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      const slash = p[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = p.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${p.slice(i + 1, end).split(',').map(escape).join('|')})`;
        i = end;
      }
    } else re += escape(c);
  }
  const exact = new RegExp(`^${re}$`);
  const below = new RegExp(`^${re}/`);
  return (path) => exact.test(path) || below.test(path);
}

function escape(text: string): string {
  return text.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}
