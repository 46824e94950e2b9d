import { FramewiseError } from '../errors.js';
import { trackFinalization } from '../finalizers.js';
import { spawnTracked, terminate, waitForExit } from './process.js';

/** Where to find the ffmpeg programs. */
export interface FfmpegPaths {
  /** Path or command name of ffmpeg. Default: `FRAMEWISE_FFMPEG_PATH`, else `ffmpeg` on the PATH. */
  readonly ffmpegPath?: string;
  /** Path or command name of ffprobe. Default: `FRAMEWISE_FFPROBE_PATH`, else `ffprobe` on the PATH. */
  readonly ffprobePath?: string;
}

/** Resolved binary paths. */
export interface ResolvedFfmpegPaths {
  readonly ffmpeg: string;
  readonly ffprobe: string;
}

export const INSTALL_HINT =
  'Install ffmpeg (Debian/Ubuntu: `apt-get install ffmpeg`; macOS: `brew install ffmpeg`) ' +
  'or set the ffmpegPath/ffprobePath options (or FRAMEWISE_FFMPEG_PATH and FRAMEWISE_FFPROBE_PATH).';

/** Resolves the binaries from options, then environment variables, then the PATH. */
export function resolveFfmpegPaths(paths: FfmpegPaths = {}): ResolvedFfmpegPaths {
  return {
    ffmpeg: paths.ffmpegPath ?? process.env.FRAMEWISE_FFMPEG_PATH ?? 'ffmpeg',
    ffprobe: paths.ffprobePath ?? process.env.FRAMEWISE_FFPROBE_PATH ?? 'ffprobe',
  };
}

/** How long `-version` may run before the binary is stopped and reported as not working. */
const VERSION_TIMEOUT_MS = 10_000;

/** Versions already checked, by binary path: each binary is run with `-version` once per process. */
const checked = new Map<string, Promise<string>>();

/**
 * Checks that `binary` runs, and returns the first line of its `-version` output.
 * Rejects with `FFMPEG_NOT_FOUND` when it cannot be started, naming the path and how to install it.
 */
export function ensureBinary(binary: string): Promise<string> {
  let pending = checked.get(binary);
  if (!pending) {
    pending = runVersion(binary);
    checked.set(binary, pending);
    // A failed check is not cached, so installing ffmpeg while the process runs takes effect.
    pending.catch(() => checked.delete(binary));
  }
  return pending;
}

function runVersion(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(binary, ['-version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    // Registered, so a run aborted during the check settles only after this child has exited.
    trackFinalization(waitForExit(child));
    const timer = setTimeout(() => {
      reject(
        new FramewiseError('FFMPEG_NOT_FOUND', `${JSON.stringify(binary)} -version did not finish within ${VERSION_TIMEOUT_MS} ms. ${INSTALL_HINT}`, {
          path: binary,
        }),
      );
      void terminate(child);
    }, VERSION_TIMEOUT_MS);
    child.once('exit', () => clearTimeout(timer));
    let output = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => (output += chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new FramewiseError('FFMPEG_NOT_FOUND', `Cannot run ${JSON.stringify(binary)}: ${error.message}. ${INSTALL_HINT}`, {
          path: binary,
          errno: error.code,
        }, { cause: error }),
      );
    });
    child.once('close', (code) => {
      if (code === 0) {
        resolve(output.split('\n', 1)[0] ?? '');
      } else {
        reject(
          new FramewiseError('FFMPEG_NOT_FOUND', `${JSON.stringify(binary)} -version exited with code ${code}. ${INSTALL_HINT}`, {
            path: binary,
            exitCode: code,
          }),
        );
      }
    });
  });
}
