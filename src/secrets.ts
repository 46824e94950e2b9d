/**
 * Masking of credentials in stream URLs, for source ids, messages, logs and the ffmpeg output that
 * framewise passes on. A camera URL such as `rtsp://admin:s3cr%21t@10.0.0.7/stream1` becomes
 * `rtsp://***:***@10.0.0.7/stream1`, and the user name and password are replaced by `***` wherever
 * they appear in text, in their literal and percent-encoded spellings.
 */

/** Text that replaces each credential. */
export const MASK = '***';

/**
 * Query parameter names whose values count as credentials: names that contain `user`, `login`,
 * `pass`, `pwd`, `token`, `secret`, `auth`, `key`, `sig` or `cred`, in any case.
 * Values of other parameters (`channel=1`, `subtype=0`) stay visible, so that two cameras that
 * differ only in them keep different source ids.
 */
export const SECRET_QUERY_KEY = /user|login|pass|pwd|token|secret|auth|key|sig|cred/i;

/** Masks the credentials of one URL in any text. */
export interface UrlRedactor {
  /** The URL with user name, password and secret query values replaced by `***`, without its fragment. */
  readonly masked: string;
  /** True when the URL contains a credential. */
  readonly hasSecrets: boolean;
  /**
   * Returns `text` with every spelling of the URL replaced by {@link UrlRedactor.masked} and every
   * remaining occurrence of a credential replaced by `***`.
   */
  redact(text: string): string;
}

/**
 * Returns `url` with its user name and password replaced by `***` (both, whichever is present),
 * the values of query parameters that look like credentials (see {@link SECRET_QUERY_KEY})
 * replaced by `***`, and the fragment removed. A string that is not a valid URL has everything
 * between `://` and the last `@` of its authority masked.
 *
 * @example
 * ```ts
 * import { maskUrlCredentials } from 'framewise';
 *
 * maskUrlCredentials('rtsp://admin:s3cr%21t@10.0.0.7/live?channel=1&password=x');
 * // 'rtsp://***:***@10.0.0.7/live?channel=1&password=***'
 * ```
 */
export function maskUrlCredentials(url: string | URL): string {
  const parsed = parseUrl(url);
  if (parsed === undefined) return maskUnparsedUrl(String(url));
  return maskParsedUrl(parsed);
}

/**
 * Builds the redactor of one URL. Use it on every text derived from the URL before it leaves
 * framewise: ffmpeg's stderr, error messages, log fields.
 */
export function createUrlRedactor(url: string | URL): UrlRedactor {
  const parsed = parseUrl(url);
  if (parsed === undefined) {
    const text = String(url);
    const masked = maskUnparsedUrl(text);
    return {
      masked,
      hasSecrets: masked !== text,
      redact: (input) => input.split(text).join(masked),
    };
  }

  const masked = maskParsedUrl(parsed);
  const secrets = urlSecrets(parsed);
  const withoutHash = new URL(parsed.href);
  withoutHash.hash = '';
  const spellings = [...new Set([String(url), parsed.href, withoutHash.href])].sort((a, b) => b.length - a.length);
  const patterns = secrets.map(secretPattern);
  return {
    masked,
    hasSecrets: secrets.length > 0,
    redact(input) {
      // Whole addresses first, so that messages keep a readable masked URL.
      let result = input;
      for (const spelling of spellings) result = result.split(spelling).join(masked);
      for (const pattern of patterns) result = result.replace(pattern, MASK);
      return result;
    },
  };
}

/**
 * Returns `text` with each of `secrets` replaced by `***`, in its literal spelling and in every
 * percent-encoded spelling (either hex case, `+` for a space). Empty secrets are ignored.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length > 0) result = result.replace(secretPattern(secret), MASK);
  }
  return result;
}

function parseUrl(url: string | URL): URL | undefined {
  if (url instanceof URL) return url;
  try {
    return new URL(url);
  } catch {
    // Not a URL; callers fall back to masking by pattern.
    return undefined;
  }
}

function maskParsedUrl(url: URL): string {
  const masked = new URL(url.href);
  if (masked.username !== '' || masked.password !== '') {
    masked.username = MASK;
    masked.password = MASK;
  }
  const keys = [...new Set(masked.searchParams.keys())].filter((key) => SECRET_QUERY_KEY.test(key));
  for (const key of keys) masked.searchParams.set(key, MASK);
  masked.hash = '';
  // set() re-serializes the whole query in form encoding; a query without secret keys stays as written.
  return masked.href;
}

/** Masks the authority's user information of a string that `URL` cannot parse. */
function maskUnparsedUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, `$1${MASK}:${MASK}@`);
}

/** Returns the decoded user name, password and secret query values of `url`, longest first. */
function urlSecrets(url: URL): string[] {
  const values = [safeDecode(url.username), safeDecode(url.password)];
  for (const [key, value] of url.searchParams) {
    if (SECRET_QUERY_KEY.test(key)) values.push(value);
  }
  return [...new Set(values.filter((value) => value.length > 0))].sort((a, b) => b.length - a.length);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A malformed escape such as `%zz` stays as written; that spelling is what appears in text.
    return text;
  }
}

/**
 * Builds a global pattern that matches `secret` with each character either literal or
 * percent-encoded (UTF-8 bytes, hex digits in either case), and a space also as `+`.
 */
function secretPattern(secret: string): RegExp {
  let source = '';
  for (const char of secret) {
    const encoded = [...Buffer.from(char, 'utf8')]
      .map((byte) => '%' + [...byte.toString(16).padStart(2, '0')].map(hexDigitPattern).join(''))
      .join('');
    const alternatives = [escapeRegExp(char), encoded];
    if (char === ' ') alternatives.push('\\+');
    source += `(?:${alternatives.join('|')})`;
  }
  return new RegExp(source, 'g');
}

function hexDigitPattern(digit: string): string {
  return /[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
