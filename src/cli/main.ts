#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isFramewiseError } from '../errors.js';
import { killRunningChildren } from '../ffmpeg/process.js';
import type { Logger } from '../logger.js';
import { maskUrlCredentials } from '../secrets.js';
import type { RtspTransport } from '../sources/stream.js';
import { formatSummary, runDetectCommand } from './detect-command.js';
import { runModelsCommand } from './models-command.js';
import { UsageError } from './usage-error.js';

const HELP = `Usage: framewise <command> [options]

Commands:
  detect INPUT --model MODEL   Detect objects in a video or image file, or a live stream.
  detect --camera DEVICE --model MODEL
                               Detect objects in a camera's frames.
  models list                  List the named models, their sizes and whether they are downloaded.
  models pull NAME...          Download named models (or the car-detection sample video) into the cache.

Options of detect:
  --model, -m MODEL      ONNX detector file, or the name of a pulled model such as tiny-yolov3 (required).
  --family NAME          Model family, when recognition from the file picks the wrong one (see docs/models.md).
  --labels PATH          Class names, one per line, replacing the model's own.
  --output, -o PATH      Write the annotated video here (.mp4, .m4v, .mov, .mkv, .avi, .webm).
  --json PATH            Write one JSON object per frame (JSON Lines).
  --classes NAMES        Comma-separated class names to keep, for example person,car.
  --min-score S          Minimum detection score, 0 to 1 (default 0.25).
  --iou S                IoU threshold of non-maximum suppression, 0 to 1 (default 0.45).
  --no-progress          Do not draw the progress bar on stderr.

Live inputs (stream URLs and cameras) of detect:
  --camera DEVICE        Read this camera instead of INPUT: an index such as 0, or a device name or
                         path (/dev/video2 on Linux, the camera's name on Windows).
  --camera-format NAME   ffmpeg input format of the camera. Default v4l2 (Linux), avfoundation (macOS),
                         dshow (Windows).
  --timeout SECONDS      Stop after this many seconds of wall-clock time, finalise the outputs and exit 0.
                         Without it, a live run goes on until interrupted.
  --rtsp-transport T     RTSP transport, tcp or udp (default tcp).
  --stall-timeout SECONDS
                         Reconnect after this many seconds without a frame (default 10).
  --live                 Read an http(s):// INPUT as a live stream even when the server states a duration.

Options of models (--cache-dir also applies to detect --model NAME):
  --cache-dir DIR        Cache folder. Default $FRAMEWISE_CACHE_DIR, else $XDG_CACHE_HOME/framewise,
                         else ~/.cache/framewise.
  --base-url URL         Download from URL/<path> instead of each file's own host, for a mirror.
                         Default $FRAMEWISE_MODEL_BASE_URL.
  --no-progress          Do not draw the download progress bar on stderr.

General options:
  --help, -h             Show this help and exit.
  --version, -v          Print the version and exit.

INPUT that contains "://" is a URL; anything else is a file path. rtsp://, rtsps://, rtmp:// and rtmps://
URLs are live streams; an http(s):// URL is a live stream (MJPEG, live HLS) when the server states no
duration, and a file otherwise. Live streams reconnect after failures until the run is stopped.
Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (SIGINT), 143 terminated (SIGTERM).
`;

/** Reads the version from the package.json above this file, in the source tree or in dist/. */
function readVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'framewise' && manifest.version) return manifest.version;
    } catch {
      // Not at this level of the tree: try the next one.
    }
  }
  return 'unknown';
}

function parseScore(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`Invalid ${name}: ${JSON.stringify(text)}. Expected a number from 0 to 1.`);
  }
  return value;
}

/** Parses a positive number of seconds. */
function parseSeconds(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`Invalid ${name}: ${JSON.stringify(text)}. Expected a positive number of seconds.`);
  }
  return value;
}

function parseTransport(text: string | undefined): RtspTransport | undefined {
  if (text === undefined) return undefined;
  if (text !== 'tcp' && text !== 'udp') throw new UsageError(`Invalid --rtsp-transport: ${JSON.stringify(text)}. Expected tcp or udp.`);
  return text;
}

/**
 * Prints the warnings of live inputs (lost connections, stalls), which carry no credentials.
 * Errors are not printed here, because the run fails with them and main() reports them.
 */
const stderrWarnings: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => process.stderr.write(`framewise: ${message}${typeof fields?.error === 'string' ? `: ${fields.error}` : ''}\n`),
  error() {},
};

/** Splits `--classes` into names. An empty list is rejected because it would silently drop every detection. */
function parseClasses(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) {
    throw new UsageError(`Invalid --classes: ${JSON.stringify(text)}. Expected comma-separated class names, for example person,car.`);
  }
  return names;
}

/** Runs the CLI with `argv` (without node and the script path) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        model: { type: 'string', short: 'm' },
        output: { type: 'string', short: 'o' },
        json: { type: 'string' },
        classes: { type: 'string' },
        'min-score': { type: 'string' },
        iou: { type: 'string' },
        'no-progress': { type: 'boolean' },
        family: { type: 'string' },
        labels: { type: 'string' },
        'cache-dir': { type: 'string' },
        'base-url': { type: 'string' },
        camera: { type: 'string' },
        'camera-format': { type: 'string' },
        timeout: { type: 'string' },
        'rtsp-transport': { type: 'string' },
        'stall-timeout': { type: 'string' },
        live: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    return usageFailure(describeParseError(error));
  }

  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${readVersion()}\n`);
    return 0;
  }

  const [command, input, ...extra] = positionals;
  if (command === undefined) return usageFailure('Missing command.');
  if (command === 'models') {
    return runModelsCommand({
      args: positionals.slice(1),
      cacheDir: values['cache-dir'],
      baseUrl: values['base-url'],
      progress: !values['no-progress'],
    }).then(() => 0, reportFailure);
  }
  if (command !== 'detect') return usageFailure(`Unknown command ${JSON.stringify(command)}.`);
  if (input === undefined && values.camera === undefined) {
    return usageFailure('Missing INPUT: the video or image file or the stream URL to process, or --camera DEVICE.');
  }
  if (input !== undefined && values.camera !== undefined) {
    return usageFailure(`Give either INPUT or --camera, not both (got ${JSON.stringify(maskUrlCredentials(input))} and --camera ${values.camera}).`);
  }
  if (extra.length > 0) return usageFailure(`Unexpected arguments: ${extra.join(' ')}.`);
  if (values.model === undefined) return usageFailure('Missing --model: the ONNX detector file.');

  const controller = new AbortController();
  // Set by the first signal; a second one exits at once without waiting for outputs.
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interruptedBy !== undefined) {
      // ffmpeg children run in their own process groups, so the terminal's signal did not reach them.
      killRunningChildren('SIGKILL');
      process.exit(exitCodeFor(signal));
    }
    interruptedBy = signal;
    process.stderr.write(`\nframewise: ${signal} received, finalising outputs (send it again to quit at once)\n`);
    controller.abort(new Error(`received ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const options = {
      input: input ?? '',
      camera: values.camera,
      cameraFormat: values['camera-format'],
      timeoutSeconds: parseSeconds('--timeout', values.timeout),
      rtspTransport: parseTransport(values['rtsp-transport']),
      stallTimeoutSeconds: parseSeconds('--stall-timeout', values['stall-timeout']),
      live: values.live,
      logger: stderrWarnings,
      model: values.model,
      family: values.family,
      labels: values.labels,
      cacheDir: values['cache-dir'],
      output: values.output,
      json: values.json,
      classes: parseClasses(values.classes),
      minScore: parseScore('--min-score', values['min-score']),
      iouThreshold: parseScore('--iou', values.iou),
      progress: !values['no-progress'],
      signal: controller.signal,
    };
    const summary = await runDetectCommand(options);
    process.stdout.write(`${formatSummary(summary, options)}\n`);
    return 0;
  } catch (error) {
    if (interruptedBy !== undefined && isFramewiseError(error, 'ABORTED')) {
      process.stderr.write('framewise: stopped; outputs were finalised.\n');
      return exitCodeFor(interruptedBy);
    }
    return reportFailure(error);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Command-line options by the name of the library argument they set, for error messages. */
const OPTION_OF_ARGUMENT: Readonly<Record<string, string>> = {
  'writeVideo path': '--output',
  minScore: '--min-score',
  iouThreshold: '--iou',
  classes: '--classes',
};

/** Prints a failure and returns its exit code: 2 for usage errors and invalid arguments, 1 otherwise. */
function reportFailure(error: unknown): number {
  if (error instanceof UsageError) return usageFailure(error.message);
  if (isFramewiseError(error, 'INVALID_ARGUMENT')) {
    // Name the command-line option, not the library argument behind it.
    const argument = String(error.context.argument);
    const option = OPTION_OF_ARGUMENT[argument];
    if (option === undefined) return usageFailure(error.message);
    return usageFailure(error.message.replace(`Invalid ${argument}:`, `Invalid ${option}:`));
  }
  const code = isFramewiseError(error) ? ` [${error.code}]` : '';
  process.stderr.write(`framewise: ${error instanceof Error ? error.message : String(error)}${code}\n`);
  return 1;
}

/** Rewrites parseArgs's errors, whose texts are long and quote oddly, as one short sentence. */
function describeParseError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  // The quoted part is '--name', or '-m, --name <value>' for an option with a short form.
  const option = /--[\w-]+/.exec(message)?.[0] ?? /'(-[^' ,]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `Unknown option ${option}.`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) return `Option ${option} needs a value.`;
  return message;
}

function usageFailure(message: string): number {
  process.stderr.write(`framewise: ${message}\nRun "framewise --help" for usage.\n`);
  return 2;
}

function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

// Run only when executed as a program (directly or through npm's bin link), not when imported by tests.
const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(realpathSync(invokedPath)).href) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
