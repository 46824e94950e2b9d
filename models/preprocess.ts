/**
 * Turns RGB24 pixels into a model input tensor in one pass: bilinear resize into the target
 * rectangle, border padding, channel order, layout, dtype and normalisation, as a model adapter
 * declares them in its {@link InputPreprocessing}.
 */
import type { BoxXYXY, RgbImage } from '../src/types.js';
import { computeLetterbox, toSourceBox, type LetterboxParams } from './letterbox.js';

/** Input preparation that a model family expects. */
export interface InputPreprocessing {
  /**
   * `letterbox`: scale by one factor to fit, pad the borders with `padValue` (aspect ratio kept).
   * `stretch`: resize to the full input size (aspect ratio not kept). `none`: the tensor has the
   * image's own size, for models with free height and width that resize inside the graph.
   */
  readonly resize: 'letterbox' | 'stretch' | 'none';
  /** Letterbox only: how the scaled size is rounded. Default `round` (Ultralytics). */
  readonly rounding?: 'round' | 'floor';
  /** Letterbox only: `center` (default) or `top-left`, which puts all padding right and below. */
  readonly align?: 'center' | 'top-left';
  /** Value of the letterbox borders before normalisation, 0..255 (Ultralytics: 114). */
  readonly padValue: number;
  /**
   * When set, the value written into the borders of the tensor, after normalisation, instead of
   * `padValue` normalised per channel. Models that pad after normalising (retinanet-9) use 0.
   */
  readonly padTensorValue?: number;
  /** Channel order of the tensor. */
  readonly channelOrder: 'rgb' | 'bgr';
  /**
   * `nchw`: planes `[1, 3, H, W]`. `nhwc`: interleaved `[1, H, W, 3]`. `chw`: planes `[3, H, W]`
   * without a batch dimension (torchvision exports traced with a list of images).
   */
  readonly layout: 'nchw' | 'nhwc' | 'chw';
  /** Element type of the tensor. `uint8` writes the resized 0..255 values and ignores `scale`, `mean` and `std`. */
  readonly dtype: 'float32' | 'uint8';
  /** Float tensors hold `(pixel * scale - mean[c]) / std[c]`, with `c` the tensor channel (after `channelOrder`). */
  readonly scale: number;
  /** Per-channel mean subtracted after scaling, in tensor channel order. */
  readonly mean: readonly [number, number, number];
  /** Per-channel divisor applied after the mean, in tensor channel order. */
  readonly std: readonly [number, number, number];
}

/** Ultralytics YOLO input: letterbox padded with 114, RGB, NCHW float32 in 0..1. */
export const ULTRALYTICS_PREPROCESSING: InputPreprocessing = Object.freeze<InputPreprocessing>({
  resize: 'letterbox',
  padValue: 114,
  channelOrder: 'rgb',
  layout: 'nchw',
  dtype: 'float32',
  scale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
});

/**
 * Where the image landed in the tensor and how to map model-input pixels back to source pixels.
 * For `letterbox`, `letterbox` contains the parameters of both directions.
 */
export interface InputPlacement {
  readonly letterbox?: LetterboxParams;
  /** Model-input pixels per source pixel along x. */
  readonly scaleX: number;
  /** Model-input pixels per source pixel along y. */
  readonly scaleY: number;
  readonly padX: number;
  readonly padY: number;
  readonly newWidth: number;
  readonly newHeight: number;
}

/** A model input tensor and the placement of the image in it. */
export interface PreparedInput {
  readonly data: Float32Array | Uint8Array;
  /** Tensor shape, `[1, 3, H, W]`, `[1, H, W, 3]` or `[3, H, W]`. */
  readonly dims: readonly number[];
  readonly placement: InputPlacement;
}

/** Computes where an image of the given size lands in a `targetWidth` x `targetHeight` input. */
export function computePlacement(
  spec: InputPreprocessing,
  sourceWidth: number,
  sourceHeight: number,
  targetWidth: number,
  targetHeight: number,
): InputPlacement {
  if (spec.resize === 'none') {
    return { scaleX: 1, scaleY: 1, padX: 0, padY: 0, newWidth: sourceWidth, newHeight: sourceHeight };
  }
  if (spec.resize === 'stretch') {
    return {
      scaleX: targetWidth / sourceWidth,
      scaleY: targetHeight / sourceHeight,
      padX: 0,
      padY: 0,
      newWidth: targetWidth,
      newHeight: targetHeight,
    };
  }
  const letterbox = computeLetterbox(sourceWidth, sourceHeight, targetWidth, targetHeight, { rounding: spec.rounding, align: spec.align });
  return { letterbox, scaleX: letterbox.scale, scaleY: letterbox.scale, ...letterbox };
}

/** Maps a box from model-input pixels to source pixels, without clipping. */
export function placementToSourceBox(placement: InputPlacement, box: BoxXYXY): BoxXYXY {
  if (placement.letterbox) return toSourceBox(placement.letterbox, box);
  const { scaleX, scaleY, padX, padY } = placement;
  return [(box[0] - padX) / scaleX, (box[1] - padY) / scaleY, (box[2] - padX) / scaleX, (box[3] - padY) / scaleY];
}

/**
 * Builds the input tensor of one image for a `targetWidth` x `targetHeight` model input (ignored
 * with `resize: 'none'`, where the tensor takes the image's size).
 * The resize is bilinear with pixel centres aligned (as OpenCV's `INTER_LINEAR`), and each
 * resized value is rounded to an integer 0..255 before normalisation, as OpenCV does for 8-bit images.
 *
 * @example
 * const input = prepareInput(image, 640, 640, ULTRALYTICS_PREPROCESSING);
 * new ort.Tensor('float32', input.data, input.dims);
 */
export function prepareInput(image: RgbImage, modelWidth: number, modelHeight: number, spec: InputPreprocessing): PreparedInput {
  const targetWidth = spec.resize === 'none' ? image.width : modelWidth;
  const targetHeight = spec.resize === 'none' ? image.height : modelHeight;
  const placement = computePlacement(spec, image.width, image.height, targetWidth, targetHeight);
  const planeSize = targetWidth * targetHeight;
  const data = spec.dtype === 'uint8' ? new Uint8Array(planeSize * 3) : new Float32Array(planeSize * 3);
  const dims = tensorDims(spec.layout, targetWidth, targetHeight);
  const planar = spec.layout !== 'nhwc';

  // Lookup from a 0..255 value to the tensor value, per tensor channel.
  const lookup = buildValueLookup(spec);
  fillPadding(data, spec, planeSize, lookup);

  const bgr = spec.channelOrder === 'bgr';
  const [lookup0, lookup1, lookup2] = lookup as [Float32Array, Float32Array, Float32Array];
  const columns = interpolationTable(image.width, placement.newWidth, 3);
  const rows = interpolationTable(image.height, placement.newHeight, image.width * 3);
  const pixels = image.data;
  // Distance in the tensor between two channels of one pixel, and between two neighbouring pixels.
  const channelStride = planar ? planeSize : 1;
  const pixelStride = planar ? 1 : 3;

  // Bilinear blending in two passes: each source row that an output row needs is blended along x
  // once, into one of two buffers, and reused by the next output row that needs it. The
  // expressions and their order are those of a direct bilinear blend, so every value is the same.
  const width = placement.newWidth;
  const blended = [new Float64Array(width * 3), new Float64Array(width * 3)] as const;
  const blendedRow = [-1, -1];
  const blendRow = (rowOffset: number, keep: number): Float64Array => {
    if (blendedRow[0] === rowOffset) return blended[0];
    if (blendedRow[1] === rowOffset) return blended[1];
    const slot = blendedRow[0] === keep ? 1 : 0;
    const target = blended[slot];
    for (let x = 0, i = 0; x < width; x += 1, i += 3) {
      const left = rowOffset + (columns.first[x] as number);
      const right = rowOffset + (columns.second[x] as number);
      const fx = columns.weight[x] as number;
      const gx = 1 - fx;
      target[i] = (pixels[left] as number) * gx + (pixels[right] as number) * fx;
      target[i + 1] = (pixels[left + 1] as number) * gx + (pixels[right + 1] as number) * fx;
      target[i + 2] = (pixels[left + 2] as number) * gx + (pixels[right + 2] as number) * fx;
    }
    blendedRow[slot] = rowOffset;
    return target;
  };

  for (let y = 0; y < placement.newHeight; y += 1) {
    const top = rows.first[y] as number;
    const bottom = rows.second[y] as number;
    const upper = blendRow(top, bottom);
    const lower = blendRow(bottom, top);
    const fy = rows.weight[y] as number;
    const gy = 1 - fy;
    let out = ((y + placement.padY) * targetWidth + placement.padX) * pixelStride;

    for (let i = 0; i < width * 3; i += 3) {
      const r = Math.round((upper[i] as number) * gy + (lower[i] as number) * fy);
      const g = Math.round((upper[i + 1] as number) * gy + (lower[i + 1] as number) * fy);
      const b = Math.round((upper[i + 2] as number) * gy + (lower[i + 2] as number) * fy);
      data[out] = lookup0[bgr ? b : r] as number;
      data[out + channelStride] = lookup1[g] as number;
      data[out + 2 * channelStride] = lookup2[bgr ? r : b] as number;
      out += pixelStride;
    }
  }

  return { data, dims, placement };
}

/** Per tensor channel, the tensor value of each 0..255 pixel value. */
function buildValueLookup(spec: InputPreprocessing): Float32Array[] {
  return [0, 1, 2].map((channel) => {
    const table = new Float32Array(256);
    for (let value = 0; value < 256; value += 1) {
      table[value] = spec.dtype === 'uint8' ? value : (value * spec.scale - (spec.mean[channel] as number)) / (spec.std[channel] as number);
    }
    return table;
  });
}

/** Shape of the tensor of one image. */
function tensorDims(layout: InputPreprocessing['layout'], width: number, height: number): number[] {
  if (layout === 'nchw') return [1, 3, height, width];
  if (layout === 'chw') return [3, height, width];
  return [1, height, width, 3];
}

function fillPadding(data: Float32Array | Uint8Array, spec: InputPreprocessing, planeSize: number, lookup: Float32Array[]): void {
  if (spec.padTensorValue !== undefined) {
    data.fill(spec.padTensorValue);
    return;
  }
  const pad = Math.round(spec.padValue);
  if (spec.layout !== 'nhwc') {
    for (let c = 0; c < 3; c += 1) data.fill((lookup[c] as Float32Array)[pad] as number, c * planeSize, (c + 1) * planeSize);
    return;
  }
  for (let i = 0; i < planeSize * 3; i += 1) data[i] = (lookup[i % 3] as Float32Array)[pad] as number;
}

/**
 * For each output coordinate, the two source coordinates to blend and the weight of the second,
 * with pixel centres aligned: `source = (out + 0.5) * sourceSize / outSize - 0.5`, clamped at the edges.
 * The coordinates come multiplied by `stride`, the bytes per source step along that axis.
 */
function interpolationTable(sourceSize: number, outSize: number, stride: number): { first: Int32Array; second: Int32Array; weight: Float64Array } {
  const first = new Int32Array(outSize);
  const second = new Int32Array(outSize);
  const weight = new Float64Array(outSize);
  const ratio = sourceSize / outSize;

  for (let out = 0; out < outSize; out += 1) {
    const position = (out + 0.5) * ratio - 0.5;
    let index = Math.floor(position);
    let fraction = position - index;
    if (index < 0) {
      index = 0;
      fraction = 0;
    }
    if (index >= sourceSize - 1) {
      index = sourceSize - 1;
      fraction = 0;
    }
    first[out] = index * stride;
    second[out] = Math.min(index + 1, sourceSize - 1) * stride;
    weight[out] = fraction;
  }
  return { first, second, weight };
}
