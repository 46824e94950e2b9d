import type { FrameLease } from './backpressure.js';
import { FRAME_LEASE } from './backpressure.js';

/**
 * One decoded video frame.
 *
 * Pixels are RGB24: `width * height * 3` bytes, row-major from the top-left corner, three bytes per
 * pixel in R, G, B order, no row padding. The pixel at `(x, y)` starts at byte `(y * width + x) * 3`.
 */
export interface Frame {
  /** Identifies the source that produced the frame (a file path, a masked URL or a user-given id). */
  readonly sourceId: string;
  /** Position of the frame in its source, 0-based, counting every frame the source delivered. */
  readonly index: number;
  /**
   * Media time in milliseconds. For files: the frame's presentation timestamp minus the first
   * frame's, so the first frame is at 0. For live sources: milliseconds since the first frame arrived.
   */
  readonly timestampMs: number;
  /** Width in pixels, after any rotation stored in the file was applied. */
  readonly width: number;
  /** Height in pixels, after any rotation stored in the file was applied. */
  readonly height: number;
  /** RGB24 pixels, `width * height * 3` bytes. */
  readonly data: Uint8Array;
  /** True when `timestampMs` follows the arrival clock of a live source rather than the file's timestamps. */
  readonly live: boolean;
  /**
   * Flow-control handle of the source. Stages that keep a frame after `next()` returns take a hold
   * on it through {@link holdFrame}; object spread copies this property, so `{ ...frame, x }` keeps it.
   */
  readonly [FRAME_LEASE]?: FrameLease;
}

/** A box as `[x1, y1, x2, y2]`: top-left and bottom-right corners in source-frame pixels (floats). */
export type BoxXYXY = readonly [x1: number, y1: number, x2: number, y2: number];

/** One object found in a frame. */
export interface Detection {
  /** Index of the class in the detector's label list. */
  readonly classId: number;
  /** Class name: the canonical COCO spelling, or the name from the label file. */
  readonly name: string;
  /** Confidence from 0 to 1. */
  readonly score: number;
  /** Bounding box in the pixel coordinates of the source frame, clipped to the frame. */
  readonly box: BoxXYXY;
}

/** A frame together with the detections found in it. */
export interface DetectedFrame extends Frame {
  /** Detections for this frame, highest score first. */
  readonly detections: readonly Detection[];
  /**
   * True when the detector did not run on this frame and `detections` were carried forward from an
   * earlier frame. False or absent when the detector ran on this frame.
   */
  readonly carried?: boolean;
}

/** The pixels of one image, without any frame bookkeeping. Same layout as {@link Frame.data}. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** RGB24 pixels, `width * height * 3` bytes. */
  readonly data: Uint8Array;
}
