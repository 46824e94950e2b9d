import { FramewiseError } from './errors.js';

/** Normalises a class name for comparison: case, surrounding spaces, and `_` or `-` for spaces. */
export function normalizeClassName(name: string): string {
  return name.trim().toLowerCase().replace(/[_-]+/g, ' ').replace(/\s+/g, ' ');
}

/**
 * Maps class names to ids in `labels`. Matching ignores case and treats `_` as a space, so
 * `stop_sign` matches `stop sign`. Throws `INVALID_ARGUMENT` naming every unknown name and the valid ones.
 */
export function resolveClassIds(names: readonly string[], labels: readonly string[]): number[] {
  const byName = new Map<string, number>();
  labels.forEach((label, id) => {
    const key = normalizeClassName(label);
    if (!byName.has(key)) byName.set(key, id);
  });

  const ids: number[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const id = byName.get(normalizeClassName(name));
    if (id === undefined) unknown.push(name);
    else if (!ids.includes(id)) ids.push(id);
  }

  if (unknown.length > 0) {
    throw new FramewiseError(
      'INVALID_ARGUMENT',
      `Unknown class name${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}. ` +
        `Valid names for this model: ${labels.join(', ')}.`,
      { argument: 'classes', value: unknown, validNames: labels },
    );
  }
  return ids;
}
