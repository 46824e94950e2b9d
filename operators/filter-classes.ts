import { defer, map, throwError, type MonoTypeOperatorFunction } from 'rxjs';
import { KNOWN_CLASS_NAMES, selectedNames, unknownNamesError, type ClassSelection } from '../src/analysis/class-selection.js';
import { canonicalClassName } from '../src/class-names.js';
import { invalidArgument } from '../src/errors.js';
import type { DetectedFrame } from '../src/types.js';

export type { ClassSelection };

/** Options of {@link filterClasses}. */
export interface FilterClassesOptions {
  /**
   * The model's own class names, such as `detector.info.labels`, or a function returning them
   * (read at subscription, for a detector loaded after the pipeline is built). When given, every
   * selected name must be one of them; names outside the COCO sets are then accepted too.
   */
  readonly labels?: readonly string[] | (() => readonly string[]);
}

/**
 * Keeps only the detections of the selected classes; frames themselves all pass, with the other
 * detections removed. Names match without regard to case, `_` or `-` match a space, and the
 * darknet and ImageAI spellings match their COCO names (`motorbike` keeps `motorcycle`,
 * `stop_sign` keeps `stop sign`, `hair_dryer` keeps `hair drier`).
 *
 * ```text
 * detected:                  --[person, car]--[bus]--[]--|
 * filterClasses(['person']): --[person]-------[]-----[]--|
 * ```
 *
 * Each output frame is a copy of the input with a new `detections` array, so the pixels and the
 * flow-control lease carry over. An empty selection keeps no detections.
 *
 * @example
 * ```ts
 * import { detect, filterClasses } from 'framewise/operators';
 *
 * frames$.pipe(detect(detector), filterClasses(['person', 'bicycle'], { labels: detector.info.labels }));
 * // ImageAI's CustomObjects shape works too:
 * frames$.pipe(detect(detector), filterClasses({ person: true, motorbike: true, car: false }));
 * ```
 *
 * @param classes The names to keep, as an array or as a `{ name: boolean }` object.
 * @param options The model's own labels, to check the names against.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time for a selection of the wrong shape. It
 * also throws for a name found neither in a known label set (COCO's 80 classes, COCO's 91 ids as
 * ImageAI names them, their darknet and ImageAI spellings) nor in an array given as `labels`, and
 * the message lists close valid names. Emits `INVALID_ARGUMENT` at subscription when a name is not
 * among the model's `labels`.
 * @see detect
 */
export function filterClasses<T extends DetectedFrame>(
  classes: ClassSelection,
  options: FilterClassesOptions = {},
): MonoTypeOperatorFunction<T> {
  const names = selectedNames(classes);
  validateOptions(options);
  const labelsNow = Array.isArray(options.labels) ? (options.labels as readonly string[]) : undefined;
  const known = labelsNow ? new Set([...KNOWN_CLASS_NAMES, ...labelsNow.map(canonicalClassName)]) : KNOWN_CLASS_NAMES;
  const unknown = names.filter((name) => !known.has(canonicalClassName(name)));
  if (unknown.length > 0) throw unknownNamesError(unknown, [...known], 'in any known label set');
  const keep = new Set(names.map(canonicalClassName));

  return (source) =>
    defer(() => {
      const labels = typeof options.labels === 'function' ? options.labels() : options.labels;
      if (labels !== undefined && !(Array.isArray(labels) && labels.every((label) => typeof label === 'string'))) {
        return throwError(() => invalidArgument('filterClasses option labels()', labels, 'a function returning an array of class names'));
      }
      if (labels !== undefined) {
        const modelNames = new Set(labels.map(canonicalClassName));
        const missing = names.filter((name) => !modelNames.has(canonicalClassName(name)));
        if (missing.length > 0) return throwError(() => unknownNamesError(missing, labels, "among the model's labels"));
      }

      // Canonical spelling of each detection name met so far; detections repeat a few names.
      const canonical = new Map<string, string>();
      const isKept = (name: string): boolean => {
        let key = canonical.get(name);
        if (key === undefined) {
          key = canonicalClassName(name);
          canonical.set(name, key);
        }
        return keep.has(key);
      };
      return source.pipe(map((frame) => ({ ...frame, detections: frame.detections.filter((detection) => isKept(detection.name)) })));
    });
}

function validateOptions(options: FilterClassesOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('filterClasses options', options, 'an object or undefined');
  }
  const { labels } = options;
  if (labels === undefined || typeof labels === 'function') return;
  if (!(Array.isArray(labels) && labels.every((label) => typeof label === 'string'))) {
    throw invalidArgument('filterClasses option labels', labels, 'an array of class names or a function returning one');
  }
}
