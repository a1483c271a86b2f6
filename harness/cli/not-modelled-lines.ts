/** What the twin read but does not model: counted, the first few named, the rest in the record. */
export function notModelledLines(entries: string[] | undefined, shown = 3): string[] {
  if (!entries?.length) return [];
  return [`  not modelled (${entries.length}, the verdict does not account for ${entries.length === 1 ? 'it' : 'them'}):`, ...entries.slice(0, shown).map((e) => `    ${e}`), ...(entries.length > shown ? [`    … ${entries.length - shown} more in the record`] : [])];
}
