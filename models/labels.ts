import { readFile } from 'node:fs/promises';
import { FramewiseError } from '../src/errors.js';

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
