/**
 * Helpers of the reliability tests: ffprobe reports of written files, ffmpeg's own decode for
 * comparison, a scan of this process's child processes, and an HTTP server that stops sending.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import type { RgbImage } from '../../src/types.js';

const execFileAsync = promisify(execFile);

/** What ffprobe reports about a written file, with the frames of its first video stream counted by decoding. */
export interface MediaReport {
  readonly videoStreams: number;
  readonly audioStreams: number;
  /** Frames of the first video stream that decode (`nb_read_frames`). */
  readonly frames: number;
  /** Container duration in seconds. */
  readonly durationS: number;
  readonly width: number;
  readonly height: number;
  readonly codec: string;
  /** Rotation from a display matrix or a `rotate` tag of the video stream; undefined when it has neither. */
  readonly rotation: number | undefined;
}

interface ProbeJson {
  streams: {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    nb_read_frames?: string;
    tags?: { rotate?: string };
    side_data_list?: { rotation?: number }[];
  }[];
  format: { duration?: string };
}

/** Runs ffprobe with `-count_frames` on `path` and summarises its streams. */
export async function inspectMedia(path: string): Promise<MediaReport> {
  const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', `file:${path}`]);
  const report = JSON.parse(stdout) as ProbeJson;
  const video = report.streams.filter((stream) => stream.codec_type === 'video');
  const first = video[0];
  if (!first) throw new Error(`ffprobe found no video stream in ${path}`);

  const matrixRotation = first.side_data_list?.find((entry) => entry.rotation !== undefined)?.rotation;
  const tagRotation = first.tags?.rotate === undefined ? undefined : Number(first.tags.rotate);
  return {
    videoStreams: video.length,
    audioStreams: report.streams.filter((stream) => stream.codec_type === 'audio').length,
    frames: Number(first.nb_read_frames),
    durationS: Number(report.format.duration),
    width: first.width ?? 0,
    height: first.height ?? 0,
    codec: first.codec_name,
    rotation: matrixRotation ?? tagRotation,
  };
}

/** Presentation times in milliseconds of every video frame of `path`, as ffprobe decodes them. */
export async function frameTimesMs(path: string): Promise<number[]> {
  const { stdout } = await execFileAsync('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=best_effort_timestamp_time', '-of', 'json', `file:${path}`,
  ], { maxBuffer: 64 * 1024 * 1024 });
  const { frames } = JSON.parse(stdout) as { frames: { best_effort_timestamp_time: string }[] };
  return frames.map((frame) => Math.round(Number(frame.best_effort_timestamp_time) * 1e6) / 1e3);
}

/**
 * Decodes the first frame of `path` with the ffmpeg command line and its defaults (which include
 * applying a stored rotation), through a PNG so the size comes with the pixels.
 */
export async function decodeFirstFrameWithFfmpeg(path: string, pngPath: string): Promise<RgbImage> {
  await execFileAsync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', `file:${path}`, '-frames:v', '1', `file:${pngPath}`]);
  const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', `file:${pngPath}`]);
  const [width, height] = stdout.trim().split(',').map(Number) as [number, number];
  const { stdout: pixels } = await execFileAsync(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-i', `file:${pngPath}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  if (pixels.length !== width * height * 3) throw new Error(`ffmpeg returned ${pixels.length} bytes for ${width}x${height}`);
  return { width, height, data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length) };
}

/** A corner of an image. */
export type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

/**
 * Returns the corners whose `side` x `side` square is red on average (mean red above 150, mean
 * green and blue below 100).
 */
export function redCorners(image: RgbImage, side = 40): Corner[] {
  const origins: Record<Corner, [number, number]> = {
    'top-left': [0, 0],
    'top-right': [image.width - side, 0],
    'bottom-left': [0, image.height - side],
    'bottom-right': [image.width - side, image.height - side],
  };
  const red: Corner[] = [];
  for (const [corner, [left, top]] of Object.entries(origins) as [Corner, [number, number]][]) {
    const [r, g, b] = meanColour(image, left, top, side, side);
    if (r > 150 && g < 100 && b < 100) red.push(corner);
  }
  return red;
}

/** Mean R, G and B of a rectangle of an image. */
export function meanColour(image: RgbImage, left: number, top: number, width: number, height: number): [number, number, number] {
  const sums = [0, 0, 0];
  for (let y = top; y < top + height; y += 1) {
    for (let x = left; x < left + width; x += 1) {
      const offset = (y * image.width + x) * 3;
      for (let channel = 0; channel < 3; channel += 1) sums[channel] = (sums[channel] as number) + (image.data[offset + channel] as number);
    }
  }
  const count = width * height;
  return [(sums[0] as number) / count, (sums[1] as number) / count, (sums[2] as number) / count];
}

/** Centre of the pixels that are clearly red (R above 150, G and B below 100), or undefined when none are. */
export function redCentroid(image: RgbImage): [number, number] | undefined {
  let count = 0;
  let sumX = 0;
  let sumY = 0;
  for (let y = 0; y < image.height; y += 1) {
    for (let x = 0; x < image.width; x += 1) {
      const offset = (y * image.width + x) * 3;
      if ((image.data[offset] as number) > 150 && (image.data[offset + 1] as number) < 100 && (image.data[offset + 2] as number) < 100) {
        count += 1;
        sumX += x + 0.5;
        sumY += y + 0.5;
      }
    }
  }
  return count === 0 ? undefined : [sumX / count, sumY / count];
}

/** Mean absolute difference per byte of two images of the same size. */
export function meanAbsoluteDifference(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`Sizes differ: ${a.width}x${a.height} and ${b.width}x${b.height}`);
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 1) sum += Math.abs((a.data[i] as number) - (b.data[i] as number));
  return sum / a.data.length;
}

/**
 * Process ids of the running (not zombie) child processes of this process, read from /proc.
 * This counts every child, including those started without `spawnTracked`. Undefined where
 * /proc is not available.
 */
export function osChildPids(): number[] | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // Fields after the command name, which is in brackets and may contain spaces: state, ppid, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') children.push(Number(name));
    } catch {
      // The process exited while it was read.
    }
  }
  return children;
}

/** An HTTP server on 127.0.0.1 that sends the first bytes of a file and then stops sending. */
export interface FrozenServer {
  /** Address of the file on the server. */
  readonly url: URL;
  /** Requests received so far. */
  readonly requests: () => number;
  /** Closes every connection and the server. */
  close(): Promise<void>;
}

/**
 * Starts a server that responds to every request with status 200, no length, the first
 * `servedBytes` of `body`, and then nothing, keeping the connection open: a reader blocks, as
 * with a server that froze.
 */
export async function startFrozenServer(body: Uint8Array, servedBytes: number, path = '/video.ts'): Promise<FrozenServer> {
  let requests = 0;
  const open = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    requests += 1;
    open.add(response);
    response.once('close', () => open.delete(response));
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    response.write(body.subarray(0, servedBytes));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}${path}`),
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `predicate` returns true, checking every 10 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}
