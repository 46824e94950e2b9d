import { FramewiseError } from './errors.js';

/**
 * Other spellings of COCO class names, mapped to the canonical COCO spelling. They come from the
 * darknet/VOC label files used by YOLOv3, TinyYOLOv3, FastestDet and ImageAI (`motorbike`,
 * `tvmonitor`), from ImageAI's TensorFlow-era list (`hair dryer`) and from ImageAI's documentation (`donot`).
 */
const COCO_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  motorbike: 'motorcycle',
  aeroplane: 'airplane',
  sofa: 'couch',
  pottedplant: 'potted plant',
  diningtable: 'dining table',
  tvmonitor: 'tv',
  'tv monitor': 'tv',
  'hair dryer': 'hair drier',
  donot: 'donut',
});

/** Normalises a class name for comparison: case, surrounding spaces, and `_` or `-` for spaces. */
export function normalizeClassName(name: string): string {
  return name.trim().toLowerCase().replace(/[_-]+/g, ' ').replace(/\s+/g, ' ');
}

/**
 * Returns the canonical COCO spelling of a class name (`motorbike` → `motorcycle`,
 * `stop_sign` → `stop sign`). Names outside COCO come back normalised.
 */
export function canonicalClassName(name: string): string {
  const normalized = normalizeClassName(name);
  return COCO_ALIASES[normalized] ?? normalized;
}

/**
 * Maps class names to ids in `labels`. Matching ignores case, treats `_` as a space and accepts
 * the darknet and ImageAI spellings of COCO names, so `stop_sign` matches `stop sign` and
 * `motorbike` matches `motorcycle` (and the reverse). Throws `INVALID_ARGUMENT` naming every
 * unknown name and the valid ones.
 */
export function resolveClassIds(names: readonly string[], labels: readonly string[]): number[] {
  const byName = new Map<string, number>();
  labels.forEach((label, id) => {
    const key = canonicalClassName(label);
    if (!byName.has(key)) byName.set(key, id);
  });

  const ids: number[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const id = byName.get(canonicalClassName(name));
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
