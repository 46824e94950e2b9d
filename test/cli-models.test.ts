/*
 * `framewise models list`, `framewise models pull` and `framewise detect --model NAME`, run as real
 * child processes against a local HTTP server. The served "model" is a small synthetic YOLOv8
 * model, listed in a manifest file passed through FRAMEWISE_MODEL_MANIFEST.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../src/cli/download-progress.js';
import { createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { startFileServer, type FileServer } from './helpers/file-server.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI_ENTRY = join(REPO_ROOT, 'src/cli/main.ts');

// A cat filling the middle of the 64x64 input, plus empty anchors so the output is YOLOv8-shaped.
const MODEL = buildConstantYolov8Model({
  anchors: [[32, 32, 32, 32, 0.9], ...Array.from({ length: 5 }, () => [0, 0, 0, 0, 0])],
  metadata: { names: "['cat']" },
});
const MODEL_SHA256 = createHash('sha256').update(MODEL).digest('hex');
/** The model's size as the CLI prints it, such as `412 B`. */
const SIZE = formatBytes(MODEL.length);

let server: FileServer;
let media: TempMediaDir;
let cacheDir: string;
let video: string;

/** Exit status and output of one CLI run. */
interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `framewise ...args` with the test's cache, manifest and server, and kills it after 60 s. */
function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      FRAMEWISE_CACHE_DIR: cacheDir,
      FRAMEWISE_MODEL_MANIFEST: join(media.path, 'manifest.json'),
      FRAMEWISE_MODEL_BASE_URL: `${server.baseUrl}/mirror`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  server = await startFileServer();
  server.serve('/mirror/models/synthetic-cat.onnx', MODEL);
  media = await createTempMediaDir('framewise-cli-models-');
  cacheDir = media.file('cache');
  await writeFile(
    media.file('manifest.json'),
    JSON.stringify([
      { name: 'synthetic-cat', path: 'models/synthetic-cat.onnx', sizeBytes: MODEL.length, sha256: MODEL_SHA256, family: 'yolov8', description: 'Test model' },
      { name: 'corrupt-cat', path: 'models/synthetic-cat.onnx', sizeBytes: MODEL.length, sha256: 'f'.repeat(64), family: 'yolov8' },
    ]),
  );
  video = media.file('square.mp4');
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-frames:v', '3', '-pix_fmt', 'yuv420p', video);
});

afterAll(async () => {
  await server.close();
  await media.remove();
});

describe('framewise models', () => {
  it('lists the manifest with the cache state', async () => {
    const result = await runCli(['models', 'list']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Cache: ${cacheDir}`);
    expect(lines[1]).toMatch(/^NAME\s+FAMILY\s+SIZE\s+CACHED\s+DESCRIPTION$/);
    expect(lines.find((line) => line.startsWith('tiny-yolov3 '))).toMatch(/^tiny-yolov3\s+keras-yolo3\s+33\.9 MiB\s+no\s+TinyYOLOv3/);
    expect(lines.find((line) => line.startsWith('car-detection '))).toMatch(/^car-detection\s+\(media\)\s+2\.7 MiB\s+no\s+Sample video/);
    expect(lines.find((line) => line.startsWith('synthetic-cat '))).toMatch(new RegExp(`^synthetic-cat\\s+yolov8\\s+${SIZE}\\s+no\\s+Test model$`));
  });

  it('pulls a model with a progress bar and a verified checksum', async () => {
    const result = await runCli(['models', 'pull', 'synthetic-cat']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Pulled synthetic-cat to ${join(cacheDir, 'synthetic-cat.onnx')} (${SIZE}, SHA-256 verified).\n`);
    expect(result.stderr).toMatch(new RegExp(`^synthetic-cat \\[#{28}\\] ${SIZE}/${SIZE} 100%  .+/s  ETA \\d+:\\d\\d\n$`));

    const listed = await runCli(['models', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`\nsynthetic-cat\\s+yolov8\\s+${SIZE}\\s+yes\\s+Test model\n`));

    const again = await runCli(['models', 'pull', 'synthetic-cat', '--no-progress']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('synthetic-cat is already in the cache');
    expect(again.stderr).toBe('');
  });

  it('rejects a checksum mismatch and leaves no file', async () => {
    const result = await runCli(['models', 'pull', 'corrupt-cat', '--no-progress']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[CHECKSUM_MISMATCH]');
    expect(result.stderr).toContain('The file was deleted');
    expect((await readdir(cacheDir)).filter((name) => name.startsWith('corrupt-cat'))).toEqual([]);
  });

  it('takes --base-url over the environment variable', async () => {
    const result = await runCli(['models', 'pull', 'synthetic-cat', '--no-progress', '--base-url', 'http://127.0.0.1:9/unused'], {
      FRAMEWISE_CACHE_DIR: media.file('other-cache'),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[DOWNLOAD_FAILED]');
    expect(result.stderr).toContain('http://127.0.0.1:9/unused/models/synthetic-cat.onnx');
  });

  it.each([
    ['no subcommand', ['models'], /Missing subcommand of models: list or pull/],
    ['an unknown subcommand', ['models', 'remove'], /Unknown subcommand of models: "remove"/],
    ['pull without a name', ['models', 'pull'], /Missing NAME/],
    ['list with a name', ['models', 'list', 'extra'], /Unexpected arguments: extra/],
  ])('exits with 2 for %s', async (_case, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Run "framewise --help" for usage.');
  });

  it('exits with 1 for an unknown model name', async () => {
    const result = await runCli(['models', 'pull', 'yolov8n', '--no-progress']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No model named "yolov8n" in the manifest');
    expect(result.stderr).toContain('[MODEL_NOT_FOUND]');
  });
});

describe('framewise detect --model NAME', () => {
  it('says which command pulls a model that is not cached', async () => {
    const result = await runCli(['detect', video, '--model', 'synthetic-cat', '--no-progress'], { FRAMEWISE_CACHE_DIR: media.file('empty-cache') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Run "framewise models pull synthetic-cat" first');
    expect(result.stderr).toContain('[MODEL_NOT_FOUND]');
    expect(existsSync(media.file('empty-cache'))).toBe(false);
  });

  it('runs a pulled model by name, and a model file by path', async () => {
    const pulled = await runCli(['models', 'pull', 'synthetic-cat', '--no-progress']);
    expect(pulled.code).toBe(0);

    const byName = await runCli(['detect', video, '--model', 'synthetic-cat', '--no-progress']);
    expect(byName.stderr).toBe('');
    expect(byName.code).toBe(0);
    expect(byName.stdout).toMatch(/^Processed 3 frames of .* Detections: 3 \(cat 3\)\./);

    const byPath = await runCli(['detect', video, '--model', join(cacheDir, 'synthetic-cat.onnx'), '--no-progress', '--labels', media.file('labels.txt')]);
    // The labels file does not exist yet: a usage error naming it.
    expect(byPath.code).toBe(2);
    expect(byPath.stderr).toContain('Cannot read labels file');

    await writeFile(media.file('labels.txt'), 'kitten\n');
    const relabelled = await runCli(['detect', video, '--model', join(cacheDir, 'synthetic-cat.onnx'), '--no-progress', '--labels', media.file('labels.txt')]);
    expect(relabelled.code).toBe(0);
    expect(relabelled.stdout).toContain('Detections: 3 (kitten 3).');
  });

  it('rejects an unknown --family with a usage error', async () => {
    const result = await runCli(['detect', video, '--model', 'synthetic-cat', '--family', 'yolov99', '--no-progress']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid family: "yolov99"');
  });
});
