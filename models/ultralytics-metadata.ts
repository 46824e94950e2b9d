/**
 * Reads the metadata Ultralytics exporters store in `metadata_props`. Every value is the Python
 * `str()` of the setting, for example `names = "{0: 'person', 1: 'bicycle'}"` and
 * `imgsz = "[640, 640]"` (height, width).
 */
import { isPythonDict, parsePythonLiteral, type PythonValue } from './python-literal.js';

/** The Ultralytics settings framewise uses. Each field is absent when the key is missing or unreadable. */
export interface UltralyticsMetadata {
  /** Class names by class id, from `names`. */
  readonly names?: readonly string[];
  /** Input size `[height, width]` from `imgsz`. */
  readonly imgsz?: readonly [height: number, width: number];
  /** `detect`, `segment`, `pose`, `obb` or `classify`, from `task`. */
  readonly task?: string;
  /** From `end2end` (newer exports): true when the model outputs final boxes without NMS. */
  readonly end2end?: boolean;
  /** One message per key that was present but could not be read. */
  readonly problems: readonly string[];
}

/**
 * Reads `names`, `imgsz`, `task` and `end2end` from a model's metadata properties.
 * Unreadable values are reported in `problems` instead of thrown, so a model with odd metadata still loads.
 */
export function readUltralyticsMetadata(props: ReadonlyMap<string, string>): UltralyticsMetadata {
  const problems: string[] = [];
  const read = <T>(key: string, convert: (value: PythonValue) => T): T | undefined => {
    const text = props.get(key);
    if (text === undefined) return undefined;
    try {
      return convert(parsePythonLiteral(text));
    } catch (error) {
      problems.push(`metadata "${key}" is not readable (${(error as Error).message}): ${truncate(text)}`);
      return undefined;
    }
  };

  const names = read('names', namesFromLiteral);
  const imgsz = read('imgsz', imgszFromLiteral);
  const task = props.get('task')?.trim();
  const end2end = read('end2end', (value) => {
    if (typeof value !== 'boolean') throw new Error('expected True or False');
    return value;
  });
  return { names, imgsz, task, end2end, problems };
}

/**
 * Converts a parsed `names` value into a list indexed by class id: a dict `{0: 'a', 1: 'b'}` whose
 * keys are exactly 0..n-1 (in any order), or a list of strings.
 *
 * @throws Error when the value is neither, or a key is missing or repeated.
 */
export function namesFromLiteral(value: PythonValue): string[] {
  if (Array.isArray(value)) {
    return value.map((name, index) => {
      if (typeof name !== 'string') throw new Error(`entry ${index} is not a string`);
      return name;
    });
  }
  if (!isPythonDict(value)) throw new Error('expected a dict or a list of names');

  const names: string[] = new Array<string>(value.entries.length);
  for (const [key, name] of value.entries) {
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= names.length) {
      throw new Error(`key ${String(key)} is not a class id from 0 to ${names.length - 1}`);
    }
    if (typeof name !== 'string') throw new Error(`name of class ${key} is not a string`);
    if (names[key] !== undefined) throw new Error(`class ${key} appears twice`);
    names[key] = name;
  }
  return names;
}

/** Converts a parsed `imgsz` value, `[h, w]` or a single size, into `[height, width]`. */
export function imgszFromLiteral(value: PythonValue): [height: number, width: number] {
  const sizes = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(sizes) || sizes.length !== 2 || !sizes.every((size) => Number.isInteger(size) && (size as number) > 0)) {
    throw new Error('expected [height, width] as positive integers');
  }
  return [sizes[0] as number, sizes[1] as number];
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
