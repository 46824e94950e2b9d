import { readFile } from 'node:fs/promises';
import { canonicalClassName } from '../src/class-names.js';
import { FramewiseError } from '../src/errors.js';

/** Darknet/VOC spellings of the COCO names that differ from the canonical ones. */
const DARKNET_SPELLINGS: Readonly<Record<string, string>> = Object.freeze({
  motorcycle: 'motorbike',
  airplane: 'aeroplane',
  couch: 'sofa',
  'potted plant': 'pottedplant',
  'dining table': 'diningtable',
  tv: 'tvmonitor',
});

/**
 * The 80 COCO detection classes in the order of their 0-based class ids, with the canonical
 * spellings that Ultralytics models store in their `names` metadata (`motorcycle`, `couch`, `tv`).
 */
export const COCO80_LABELS: readonly string[] = Object.freeze([
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
  'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
  'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
  'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant',
  'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
  'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
]);

/**
 * Splits the text of a label file into class names: one name per line, LF or CRLF line ends,
 * spaces and tabs around each name trimmed, blank lines at the end ignored.
 *
 * @param source Where the text came from, quoted in error messages.
 * @throws FramewiseError `INVALID_ARGUMENT` when the file has no names, or a blank line between
 *   names (class ids would shift by one from that line on).
 */
export function parseLabelsText(text: string, source = 'labels text'): string[] {
  const names = text.split('\n').map((line) => line.trim());
  while (names.length > 0 && names[names.length - 1] === '') names.pop();

  if (names.length === 0) {
    throw new FramewiseError('INVALID_ARGUMENT', `Labels file ${JSON.stringify(source)} contains no class names. Write one name per line.`, {
      path: source,
    });
  }
  const blankIndex = names.indexOf('');
  if (blankIndex !== -1) {
    throw new FramewiseError(
      'INVALID_ARGUMENT',
      `Labels file ${JSON.stringify(source)} has a blank line ${blankIndex + 1} between class names. ` +
        'Write a name on every line, using a placeholder such as "N/A" for unused class ids.',
      { path: source, line: blankIndex + 1 },
    );
  }
  return names;
}

/**
 * Reads a label file: one class name per line, in class-id order (see {@link parseLabelsText}).
 *
 * @throws FramewiseError `INVALID_ARGUMENT` when the file cannot be read or contains no names.
 */
export async function readLabelsFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FramewiseError(
      'INVALID_ARGUMENT',
      `Cannot read labels file ${JSON.stringify(path)}: ${(error as Error).message}. Pass the path of a text file with one class name per line.`,
      { argument: 'labels', path },
      { cause: error },
    );
  }
  return parseLabelsText(text, path);
}

/**
 * The COCO-80 list with the darknet/VOC spellings (`motorbike`, `aeroplane`, `sofa`,
 * `pottedplant`, `diningtable`, `tvmonitor`) that keras-yolo3, FastestDet and ImageAI's YOLO label
 * files use. Detectors report the canonical spellings of {@link COCO80_LABELS} instead (see
 * {@link canonicalizeLabels}); this list is here for label files and tests.
 */
export const DARKNET_COCO80_LABELS: readonly string[] = Object.freeze(
  COCO80_LABELS.map((name) => DARKNET_SPELLINGS[name] ?? name),
);

/** COCO category ids (1..90) that have no class, where the 91-entry list has `N/A`. */
export const COCO91_GAP_IDS: readonly number[] = Object.freeze([12, 26, 29, 30, 45, 66, 68, 69, 71, 83]);

/**
 * The 91-entry COCO list indexed by COCO category id, as torchvision detection models and the
 * TensorFlow Object Detection API number their classes: id 0 is `__background__`, the ids in
 * {@link COCO91_GAP_IDS} are `N/A`, and the other ids carry the COCO-80 names in order
 * (1 `person`, 4 `motorcycle`, 90 `toothbrush`).
 */
export const COCO91_LABELS: readonly string[] = Object.freeze(buildCoco91Labels());

/** Placeholder names that mark unused class ids in label lists. */
const PLACEHOLDER_LABELS = new Set(['__background__', 'background', 'n/a', 'na', '']);

/**
 * Minimum share of names that must be COCO class names (in any accepted spelling) for a label
 * list to count as a COCO set. ImageAI's 91-entry file names its 10 gap ids (`street sign`,
 * `hat`), so a strict "every name" rule would miss it.
 */
const COCO_SET_MIN_SHARE = 0.85;

/**
 * Returns the labels with COCO class names in their canonical spelling (`motorbike` becomes
 * `motorcycle`, `tvmonitor` becomes `tv`, `traffic_light` becomes `traffic light`) when the list
 * is a COCO set: at least 85% of its names, not counting placeholders such as `N/A`, are COCO
 * class names in some accepted spelling. Other lists, such as a custom dataset's, come back
 * unchanged, so their own spellings and capitals are reported as written.
 *
 * @example
 * canonicalizeLabels(DARKNET_COCO80_LABELS)[3]; // 'motorcycle'
 * canonicalizeLabels(['Helmet', 'Vest']); // ['Helmet', 'Vest']
 */
export function canonicalizeLabels(labels: readonly string[]): string[] {
  const canonicalNames = new Set(COCO80_LABELS);
  const named = labels.filter((label) => !PLACEHOLDER_LABELS.has(label.trim().toLowerCase()));
  const cocoCount = named.filter((label) => canonicalNames.has(canonicalClassName(label))).length;
  if (named.length === 0 || cocoCount / named.length < COCO_SET_MIN_SHARE) return [...labels];

  return labels.map((label) => {
    const canonical = canonicalClassName(label);
    return canonicalNames.has(canonical) ? canonical : label;
  });
}

function buildCoco91Labels(): string[] {
  const labels = ['__background__'];
  let next = 0;
  for (let id = 1; id <= 90; id += 1) {
    labels.push(COCO91_GAP_IDS.includes(id) ? 'N/A' : (COCO80_LABELS[next++] as string));
  }
  return labels;
}
