import { invalidArgument } from '../errors.js';
import { resolveFfmpegPaths, type FfmpegPaths } from '../ffmpeg/binaries.js';
import { silentLogger, type Logger } from '../logger.js';
import { createUrlRedactor, maskUrlCredentials } from '../secrets.js';
import { createFfmpegLiveSource } from './live-ffmpeg.js';
import { resolveLiveQueueOptions, type LiveQueueOptions } from './live-queue.js';
import { checkTimeoutMs, resolveReconnectOptions, type LiveSource, type ReconnectOptions } from './live-source.js';

/** RTSP transport of the media packets. */
export type RtspTransport = 'tcp' | 'udp';

/** Options of {@link fromStream}. */
export interface StreamOptions extends FfmpegPaths, LiveQueueOptions {
  /** `sourceId` of every frame. Default: the URL with its user name, password and secret query values masked. */
  readonly sourceId?: string;
  /**
   * For `rtsp://`: carry the media over the RTSP connection (`'tcp'`) or over separate UDP ports
   * (`'udp'`). Default `'tcp'`: no packet loss and one port through firewalls, at the cost of
   * latency when the network is congested. UDP loses packets (grey or smeared frames) but never
   * falls behind. `rtsps://` always uses TCP.
   */
  readonly transport?: RtspTransport;
  /**
   * Milliseconds without a frame, while live, after which the source reports `stalled` and
   * reconnects. Default 10 000. Lowering it recovers sooner from a frozen server; it must stay
   * above the longest gap the source has between frames.
   */
  readonly stallTimeoutMs?: number;
  /**
   * Milliseconds a connection attempt may take until its first frame, after which it counts as
   * failed. Default 20 000. It covers the handshake, ffmpeg's probing and the wait for a key
   * frame, so it must exceed the stream's key-frame interval.
   */
  readonly connectTimeoutMs?: number;
  /** Reconnection after a lost connection, or `false` to fail instead. Default: retry forever with backoff. */
  readonly reconnect?: ReconnectOptions | false;
  /**
   * Extra ffmpeg input options placed before `-i`, for example `['-fflags', 'nobuffer']`.
   * They are not checked; an option that ffmpeg rejects fails every connection attempt.
   */
  readonly inputOptions?: readonly string[];
  /** Receives connection events, reconnections, stalls and ffmpeg's output (at debug level), all without credentials. Silent by default. */
  readonly logger?: Logger;
}

/** Default of {@link StreamOptions.stallTimeoutMs}. */
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;

/** Default of {@link StreamOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

/** URL schemes {@link fromStream} accepts. */
export const STREAM_PROTOCOLS: readonly string[] = ['rtsp:', 'rtsps:', 'rtmp:', 'rtmps:', 'http:', 'https:'];

/**
 * Time added to framewise's own timeouts to give ffmpeg's socket timeout. That timeout only ends a
 * read that would otherwise block forever, because the stall watchdog normally acts first.
 */
const FFMPEG_TIMEOUT_MARGIN_MS = 5000;

/**
 * Reads a live network stream: RTSP (`rtsp://`, `rtsps://`), RTMP (`rtmp://`, `rtmps://`) or HTTP
 * (`http://`, `https://`: MJPEG, MPEG-TS, HLS), decoded by ffmpeg into RGB frames.
 *
 * Live: `live` is true and `timestampMs` is the arrival time in milliseconds since the first
 * frame arrived, so timestamps follow the wall clock whatever the stream declares (MJPEG over
 * HTTP declares nothing). Timestamps strictly increase.
 *
 * Failures: ffmpeg exiting, even with code 0, means the connection was lost, not that the video
 * ended. No frame for `stallTimeoutMs` reports `stalled`. In both cases the source reconnects
 * after an exponential backoff with jitter, until frames flow again or `reconnect.maxAttempts`
 * attempts in a row failed. Then it reports `failed` and errors. Frames keep their index and
 * clock across reconnections. A stream that changes resolution yields frames of the new size;
 * every frame carries its own `width` and `height`.
 *
 * Flow: the source never pauses the sender. Frames that arrive while `maxQueuedFrames` frames are
 * queued are dropped by the `overflow` policy (default `drop-oldest`), and every drop is counted
 * in `state`. Subscribers share one connection (see {@link LiveSource}).
 *
 * Secrets: the user name, password and secret query values of the URL never appear in the
 * default source id, messages, logs, state or the ffmpeg output passed on: they show as `***`.
 *
 * ```text
 * server:   f0 f1 f2 ✕ (restart) ......... f3 f4
 * source:   f0 f1 f2 ─ reconnecting ─ live f3 f4 ...
 * state$:   connecting, live, reconnecting, live
 * ```
 *
 * @example
 * ```ts
 * import { fromStream } from 'framewise';
 *
 * const camera = fromStream('rtsp://user:pass@192.168.1.20/stream1', { transport: 'tcp', stallTimeoutMs: 5000 });
 * camera.state$.subscribe((state) => console.log(state.sourceId, state.status, state.reconnects));
 * camera.subscribe((frame) => console.log(frame.index, frame.timestampMs));
 * ```
 *
 * @param url The stream URL, as a string or `URL`.
 * @param options Transport, timeouts, reconnection, overflow policy, logging and ffmpeg location.
 * @returns A {@link LiveSource}. It completes only when unsubscribed; use `take`, `takeUntil` or
 *   the `timeout` operator to end a run.
 * @throws {FramewiseError} `INVALID_ARGUMENT` at call time for a URL that cannot be parsed, an
 *   unsupported scheme, `transport: 'udp'` with `rtsps://`, or an invalid option. Errors after
 *   subscription: `FFMPEG_NOT_FOUND`; `INVALID_INPUT` when the server rejects the credentials;
 *   `SOURCE_FAILED` once reconnection gave up (`context.reason` gives why the last attempt failed).
 * @see fromCamera
 * @see mergeSources
 */
export function fromStream(url: string | URL, options: StreamOptions = {}): LiveSource {
  const parsed = parseStreamUrl(url);
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', options, 'an object or undefined');
  const redactor = createUrlRedactor(parsed);
  const transport = resolveTransport(parsed, options.transport);
  const queue = resolveLiveQueueOptions(options);
  const reconnect = resolveReconnectOptions(options.reconnect);
  const stallTimeoutMs = checkTimeoutMs('stallTimeoutMs', options.stallTimeoutMs) ?? DEFAULT_STALL_TIMEOUT_MS;
  const connectTimeoutMs = checkTimeoutMs('connectTimeoutMs', options.connectTimeoutMs) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const { sourceId = redactor.masked, logger = silentLogger, inputOptions = [] } = options;
  if (typeof sourceId !== 'string' || sourceId.length === 0) throw invalidArgument('sourceId', sourceId, 'a non-empty string');
  if (!Array.isArray(inputOptions) || !inputOptions.every((option) => typeof option === 'string')) {
    throw invalidArgument('inputOptions', inputOptions, 'an array of strings');
  }

  const { ffmpeg } = resolveFfmpegPaths(options);
  const description = `stream ${JSON.stringify(redactor.masked)}`;
  const socketTimeoutUs = String((Math.max(stallTimeoutMs, connectTimeoutMs) + FFMPEG_TIMEOUT_MARGIN_MS) * 1000);
  const inputArgs = [...protocolOptions(parsed, transport, socketTimeoutUs), ...inputOptions, '-i', parsed.href];

  return createFfmpegLiveSource(
    { ffmpegPath: ffmpeg, inputArgs, sourceId, description, redact: redactor.redact, logger },
    { queue, reconnect, stallTimeoutMs, connectTimeoutMs },
  );
}

/**
 * Parses and checks a stream URL.
 * @throws FramewiseError `INVALID_ARGUMENT` for a value that is not a URL or has an unsupported scheme.
 */
export function parseStreamUrl(url: unknown, argumentName = 'url'): URL {
  let parsed: URL | undefined;
  if (url instanceof URL) parsed = url;
  else if (typeof url === 'string') {
    try {
      parsed = new URL(url);
    } catch {
      // Reported below, with the value masked.
      parsed = undefined;
    }
  }
  if (parsed === undefined) {
    const shown = typeof url === 'string' ? maskUrlCredentials(url) : url;
    throw invalidArgument(argumentName, shown, `a stream URL with one of the schemes ${STREAM_PROTOCOLS.map((p) => p + '//').join(', ')}`);
  }
  if (!STREAM_PROTOCOLS.includes(parsed.protocol)) {
    throw invalidArgument(
      argumentName,
      maskUrlCredentials(parsed),
      `a URL with one of the schemes ${STREAM_PROTOCOLS.map((p) => p + '//').join(', ')}; read files with fromVideoFile`,
    );
  }
  return parsed;
}

function resolveTransport(url: URL, transport: RtspTransport | undefined): RtspTransport | undefined {
  if (transport !== undefined && transport !== 'tcp' && transport !== 'udp') {
    throw invalidArgument('transport', transport, "'tcp' or 'udp'");
  }
  if (url.protocol === 'rtsps:') {
    if (transport === 'udp') throw invalidArgument('transport', transport, "'tcp', because rtsps:// runs over TLS");
    return 'tcp';
  }
  if (url.protocol === 'rtsp:') return transport ?? 'tcp';
  return undefined;
}

/** ffmpeg input options of the URL's protocol: the RTSP transport and a socket timeout as a backstop. */
function protocolOptions(url: URL, transport: RtspTransport | undefined, socketTimeoutUs: string): string[] {
  if (url.protocol === 'rtsp:' || url.protocol === 'rtsps:') {
    return ['-rtsp_transport', transport ?? 'tcp', '-timeout', socketTimeoutUs];
  }
  // For RTMP `-timeout` means how long to wait as a listening server, so only rw_timeout applies.
  return ['-rw_timeout', socketTimeoutUs];
}
