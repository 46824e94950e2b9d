/**
 * Stable error codes. Code that handles errors should switch on `error.code`, never on the message.
 * `docs/errors.md` lists when each occurs and what to do.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'FFMPEG_NOT_FOUND'
  | 'INPUT_NOT_FOUND'
  | 'INVALID_INPUT'
  | 'NO_VIDEO_STREAM'
  | 'DECODE_FAILED'
  | 'SOURCE_FAILED'
  | 'ENCODE_FAILED'
  | 'OUTPUT_FAILED'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'MODEL_LAYOUT_UNKNOWN'
  | 'INFERENCE_FAILED'
  | 'WORKER_FAILED'
  | 'DETECTOR_DISPOSED'
  | 'DOWNLOAD_FAILED'
  | 'CHECKSUM_MISMATCH'
  | 'CALLBACK_FAILED'
  | 'ABORTED';

/** Typed details attached to an error: the offending value, the path, expected versus actual. */
export type ErrorContext = Readonly<Record<string, unknown>>;

/**
 * Base class of every error framewise raises. `code` is stable across versions; `context` contains the
 * values that caused the error (path, frame index, expected and actual shapes).
 */
export class FramewiseError extends Error {
  override readonly name: string = 'FramewiseError';
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.context = context;
  }
}

/** Returns true when `error` is a {@link FramewiseError}, optionally with the given code. */
export function isFramewiseError(error: unknown, code?: ErrorCode): error is FramewiseError {
  return error instanceof FramewiseError && (code === undefined || error.code === code);
}

/** Builds the error thrown for an invalid argument, quoting the value and the accepted range. */
export function invalidArgument(name: string, value: unknown, expected: string): FramewiseError {
  return new FramewiseError(
    'INVALID_ARGUMENT',
    `Invalid ${name}: ${formatValue(value)}. Expected ${expected}.`,
    { argument: name, value, expected },
  );
}

/** Formats a value for an error message: strings quoted, other values through JSON where possible. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Circular structures cannot be serialised; the type name is still useful.
    return Object.prototype.toString.call(value);
  }
}
