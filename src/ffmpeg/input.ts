/**
 * Video inputs as ffmpeg and ffprobe receive them. A string is always a local file path. A `URL`
 * object is a network address, except a `file:` URL, which is read as its path.
 */
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidArgument } from '../errors.js';

/**
 * A video input. A string is a file path, never an ffmpeg URL, option or pattern, whatever it
 * contains (`-x.mp4`, `http:name.mp4`, `%03d.png`). Pass a `URL` object to read over HTTP or HTTPS.
 */
export type VideoInput = string | URL;

/** Network protocols a `URL` input may use. */
const NETWORK_PROTOCOLS = new Set(['http:', 'https:']);

/** A validated input with everything the ffmpeg command lines and messages need. */
export interface ResolvedInput {
  /** `file` for local files (string paths and `file:` URLs), `url` for HTTP and HTTPS. */
  readonly kind: 'file' | 'url';
  /** The argument that follows `-i`: `file:` plus the absolute path, or the URL. */
  readonly argument: string;
  /** Text for messages, logs and the default `sourceId`: the path as given, or the URL without credentials and query values. */
  readonly display: string;
  /** Local path as given, for file inputs. */
  readonly path: string | undefined;
  /**
   * Replaces the URL in `text` (such as ffmpeg's stderr) by its masked form and its password by
   * `***`. Returns files' text unchanged.
   */
  redact(text: string): string;
}

/**
 * Validates an input and returns how to pass it to ffmpeg.
 *
 * @throws FramewiseError `INVALID_ARGUMENT` for an empty path, a value that is neither a string
 *   nor a `URL`, or a URL whose protocol is not `http:`, `https:` or `file:`.
 */
export function resolveVideoInput(input: unknown, argumentName = 'input'): ResolvedInput {
  if (input instanceof URL) {
    if (input.protocol === 'file:') return fileInput(fileURLToPath(input));
    if (!NETWORK_PROTOCOLS.has(input.protocol)) {
      throw invalidArgument(argumentName, maskUrl(input), 'a file path, or a URL object with protocol http:, https: or file:');
    }
    return urlInput(input);
  }
  if (typeof input !== 'string' || input.length === 0) {
    throw invalidArgument(argumentName, input, 'a non-empty file path or a URL object');
  }
  return fileInput(input);
}

/**
 * Returns `url` with the user name, password and every query value replaced by `***`, and without
 * the fragment: the form framewise puts in messages, logs and source ids.
 *
 * @example
 * maskUrl(new URL('http://user:secret@cam.local/v.mp4?token=abc')); // 'http://***:***@cam.local/v.mp4?token=***'
 */
export function maskUrl(url: URL): string {
  const masked = new URL(url.href);
  if (masked.username !== '' || masked.password !== '') {
    masked.username = '***';
    masked.password = '***';
  }
  for (const key of new Set(masked.searchParams.keys())) masked.searchParams.set(key, '***');
  masked.hash = '';
  return masked.href;
}

function fileInput(path: string): ResolvedInput {
  return {
    kind: 'file',
    argument: `file:${resolvePath(path)}`,
    display: path,
    path,
    redact: (text) => text,
  };
}

function urlInput(url: URL): ResolvedInput {
  const display = maskUrl(url);
  const withoutHash = new URL(url.href);
  withoutHash.hash = '';
  const addresses = [url.href, withoutHash.href];
  const passwords = [url.password, decodeURIComponent(url.password)].filter((password) => password.length > 0);
  return {
    kind: 'url',
    argument: url.href,
    display,
    path: undefined,
    redact: (text) => {
      // Whole addresses first, so that their query values are masked too.
      let result = text;
      for (const address of addresses) result = result.split(address).join(display);
      for (const password of passwords) result = result.split(password).join('***');
      return result;
    },
  };
}
