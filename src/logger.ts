/**
 * Structured fields attached to a log entry: ids (source, frame index), counts and the error.
 * Never put secrets here; URLs are masked before they reach a logger.
 */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logging interface framewise writes to. Library code is silent by default; pass a logger to
 * see what happens. {@link fromNestLogger} and {@link fromPinoLogger} adapt common loggers.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A logger that discards everything; the default of every framewise function. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** The subset of NestJS's `LoggerService` this adapter calls. */
export interface NestLikeLogger {
  log(message: unknown, ...optionalParams: unknown[]): unknown;
  warn(message: unknown, ...optionalParams: unknown[]): unknown;
  error(message: unknown, ...optionalParams: unknown[]): unknown;
  debug?(message: unknown, ...optionalParams: unknown[]): unknown;
}

/** Adapts a NestJS `Logger` (or any `LoggerService`): fields are passed as the second argument. */
export function fromNestLogger(nest: NestLikeLogger): Logger {
  const call = (method: (m: unknown, ...p: unknown[]) => unknown, message: string, fields?: LogFields) =>
    fields === undefined ? method.call(nest, message) : method.call(nest, message, fields);
  return {
    debug: (message, fields) => (nest.debug ? call(nest.debug, message, fields) : undefined),
    info: (message, fields) => call(nest.log, message, fields),
    warn: (message, fields) => call(nest.warn, message, fields),
    error: (message, fields) => call(nest.error, message, fields),
  };
}

/** The subset of a pino logger this adapter calls: `(fields, message)` argument order. */
export interface PinoLikeLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Adapts a pino logger, which takes the structured fields first and the message second. */
export function fromPinoLogger(pino: PinoLikeLogger): Logger {
  return {
    debug: (message, fields) => pino.debug({ ...fields }, message),
    info: (message, fields) => pino.info({ ...fields }, message),
    warn: (message, fields) => pino.warn({ ...fields }, message),
    error: (message, fields) => pino.error({ ...fields }, message),
  };
}
