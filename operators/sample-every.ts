import { map, type MonoTypeOperatorFunction } from 'rxjs';
import { invalidArgument } from '../src/errors.js';
import type { Frame } from '../src/types.js';

/**
 * Property under which a frame carries its inference mark. With `false`, {@link detect} skips the
 * model on the frame and carries the latest detections forward to it. With `true` or no mark, the
 * model runs. A registered symbol, so copies of the package agree, and object spread copies it.
 */
export const INFERENCE_MARK: unique symbol = Symbol.for('framewise.inferenceMark') as never;

/** A frame that may carry an {@link INFERENCE_MARK}. */
export type MarkedFrame = Frame & { readonly [INFERENCE_MARK]?: boolean };

/** Returns false when the frame is marked to skip inference (see {@link INFERENCE_MARK}), true otherwise. */
export function shouldRunInference(frame: Frame): boolean {
  return (frame as MarkedFrame)[INFERENCE_MARK] !== false;
}

/**
 * Marks every `n`-th frame for inference, counting from the first frame this operator receives
 * (positions 0, n, 2n, …); the other frames are marked to skip it. Place it before `detect`:
 * `detect` runs the model on marked frames only and gives every other frame the latest detections,
 * with `carried: true`. Every frame still flows downstream, in order, with its pixels.
 *
 * A frame already marked to skip inference upstream (such as a frame that `resample` repeated)
 * stays skipped, even at a position that is a multiple of `n`.
 *
 * ```text
 * frames:          --a--b--c--d--e--|
 * sampleEvery(2):  --A--b--C--d--E--|   (capitals run the model)
 * ```
 *
 * Raising `n` divides the inference work by `n`, at the cost of boxes that lag behind moving
 * objects for up to `n - 1` frames.
 *
 * @example
 * ```ts
 * import { fromVideoFile } from 'framewise';
 * import { detect, sampleEvery } from 'framewise/operators';
 *
 * // The model runs on frames 0, 5, 10, …; frames in between reuse the latest boxes.
 * fromVideoFile('street.mp4').pipe(sampleEvery(5), detect(detector)).subscribe();
 * ```
 *
 * @param n Run inference on one frame in `n`, an integer of at least 1. 1 marks every frame.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time when `n` is not a positive integer.
 * @see detect
 * @see resample
 */
export function sampleEvery<T extends Frame>(n: number): MonoTypeOperatorFunction<T> {
  if (!(Number.isSafeInteger(n) && n >= 1)) {
    throw invalidArgument('sampleEvery n', n, 'an integer of at least 1 (run inference on one frame in n)');
  }

  return map((frame, position) => {
    const run = position % n === 0 && shouldRunInference(frame);
    return { ...frame, [INFERENCE_MARK]: run };
  });
}
