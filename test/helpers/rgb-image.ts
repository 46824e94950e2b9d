import { spawnTracked } from '../../src/ffmpeg/process.js';
import type { RgbImage } from '../../src/types.js';

/** Runs a program to completion and returns its stdout; rejects with its stderr on a non-zero exit. */
async function run(command: string, args: readonly string[]): Promise<Buffer> {
  const child = spawnTracked(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  // 'close' rather than 'exit': it fires after stdout has been read to the end.
  await new Promise<void>((resolve, reject) => {
    child.once('close', () => resolve());
    child.once('error', reject);
  });
  if (child.exitCode !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode}: ${Buffer.concat(stderr).toString()}`);
  }
  return Buffer.concat(stdout);
}

/** Decodes an image file to RGB24 with ffmpeg, taking its size from ffprobe. */
export async function decodeImageRgb(path: string): Promise<RgbImage> {
  const probe = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path]);
  const [width, height] = probe.toString().trim().split(',').map(Number);
  if (!width || !height) throw new Error(`ffprobe found no image size in ${path}: ${probe.toString()}`);

  const data = await run('ffmpeg', ['-v', 'error', '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  if (data.length !== width * height * 3) throw new Error(`ffmpeg returned ${data.length} bytes for a ${width}x${height} image`);
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
