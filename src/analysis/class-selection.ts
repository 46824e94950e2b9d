/**
 * Class selections as `filterClasses` and the ImageAI-style facade take them: their shapes, the
 * known label sets a name is checked against, and the error that suggests close names.
 */
import { COCO80_LABELS } from '../../models/labels.js';
import { canonicalClassName } from '../class-names.js';
import { FramewiseError, formatValue, invalidArgument } from '../errors.js';

/**
 * Classes to keep: an array of names, or an object mapping each name to true (keep) or false, as
 * ImageAI's `CustomObjects(...)` returns (`{ person: true, car: false }`).
 */
export type ClassSelection = readonly string[] | Readonly<Record<string, boolean>>;

/**
 * Class names of ImageAI's RetinaNet list (COCO's 91 category ids) that are not among COCO's 80
 * detection classes: ids without annotations, named as in the COCO paper, and the background slot.
 */
const COCO91_EXTRA_NAMES: readonly string[] = [
  'unlabeled', 'street sign', 'hat', 'shoe', 'eye glasses', 'plate', 'mirror', 'window', 'desk', 'door', 'blender', 'hair brush',
];

/** Canonical spellings of every name in a known label set; aliases reach them through `canonicalClassName`. */
export const KNOWN_CLASS_NAMES: ReadonlySet<string> = new Set([...COCO80_LABELS, ...COCO91_EXTRA_NAMES].map(canonicalClassName));

/** Suggestions listed in an error message for an unknown name. */
const MAX_SUGGESTIONS = 5;

/** Returns the names a selection keeps. Throws `INVALID_ARGUMENT` for a selection of the wrong shape. */
export function selectedNames(classes: ClassSelection): string[] {
  if (Array.isArray(classes)) {
    const list = classes as readonly unknown[];
    if (list.some((name) => typeof name !== 'string' || name.trim() === '')) {
      throw invalidArgument('classes', classes, 'an array of non-empty class names');
    }
    return [...(list as string[])];
  }
  if (typeof classes !== 'object' || classes === null) {
    throw invalidArgument('classes', classes, 'an array of class names or an object such as { person: true, car: false }');
  }
  const entries = Object.entries(classes);
  const invalid = entries.find(([, value]) => typeof value !== 'boolean');
  if (invalid) {
    throw invalidArgument(`classes.${invalid[0]}`, invalid[1], 'true (keep the class) or false');
  }
  return entries.filter(([, value]) => value).map(([name]) => name);
}

/**
 * Builds the error for names not found in `validNames`, suggesting close valid names for each.
 * `where` completes "is not …" in the message.
 */
export function unknownNamesError(unknown: readonly string[], validNames: readonly string[], where: string): FramewiseError {
  const suggestions = Object.fromEntries(unknown.map((name) => [name, closeNames(name, validNames)]));
  const parts = unknown.map((name) => {
    const close = suggestions[name] as string[];
    return close.length > 0
      ? `${formatValue(name)} (did you mean ${close.map((s) => formatValue(s)).join(', ')}?)`
      : formatValue(name);
  });
  const plural = unknown.length > 1;
  return new FramewiseError(
    'INVALID_ARGUMENT',
    `Class name${plural ? 's' : ''} ${parts.join(', ')} ${plural ? 'are' : 'is'} not ${where}. ` +
      'Names match without regard to case, with _ or - for spaces. For a model with its own class names, pass its labels ' +
      '(for example labels: detector.info.labels).',
    { argument: 'classes', value: [...unknown], suggestions },
  );
}

/** Valid names within a small edit distance of `name`, or containing it, closest first. */
function closeNames(name: string, validNames: readonly string[]): string[] {
  const target = canonicalClassName(name);
  const maxDistance = Math.max(2, Math.floor(target.length / 3));
  const scored = new Map<string, number>();
  for (const valid of validNames) {
    const candidate = canonicalClassName(valid);
    const distance = editDistance(target, candidate);
    const contains = target.length >= 3 && (candidate.includes(target) || target.includes(candidate));
    if (distance <= maxDistance || contains) {
      const score = contains ? Math.min(distance, 1) : distance;
      const previous = scored.get(candidate);
      if (previous === undefined || score < previous) scored.set(candidate, score);
    }
  }
  return [...scored.entries()]
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_SUGGESTIONS)
    .map(([candidate]) => candidate);
}

/** Levenshtein distance: the fewest single-character insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let previousRow = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previousRow[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previousRow[j] as number) + 1, (row[j - 1] as number) + 1, substitution));
    }
    previousRow = row;
  }
  return previousRow[b.length] as number;
}
