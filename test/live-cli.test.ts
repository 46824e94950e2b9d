import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeJpegFrames, startMjpegServer, type MjpegServer } from './helpers/live-servers.js';
import { createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

// The CLI runs as a real child process through tsx, from the repository root (where tsx resolves).
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI_ENTRY = join(REPO_ROOT, 'src/cli/main.ts');

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `framewise ...args`; kills it by pid with SIGKILL if it is still running after `deadlineMs`. */
function runCli(args: readonly string[], deadlineMs = 45_000): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const deadline = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    });
  });
}

let fixtures: TempMediaDir;
let model: string;
let server: MjpegServer;

beforeAll(async () => {
  fixtures = await createTempMediaDir('framewise-live-cli-');
  model = fixtures.file('constant-car.onnx');
  // One constant `car` box, so every processed frame has one detection.
  const anchors = [[32, 32, 32, 16, 0.1, 0.9], ...Array.from({ length: 7 }, () => [0, 0, 0, 0, 0, 0])];
  await writeFile(model, buildConstantYolov8Model({ anchors, metadata: { names: "['person', 'car']" } }));
  server = await startMjpegServer({ frames: await makeJpegFrames(fixtures, 'f', 'testsrc2=size=64x48:rate=10', 5), fps: 10 });
});

afterAll(async () => {
  await server.close();
  await fixtures.remove();
});

describe('framewise detect with live inputs', () => {
  it('reads an MJPEG stream until --timeout and exits 0', async () => {
    const json = fixtures.file('mjpeg.jsonl');

    const result = await runCli(['detect', server.url, '--model', model, '--timeout', '2', '--json', json, '--no-progress']);

    expect(result.stderr).toBe('');
    expect(result.code, result.stderr).toBe(0);
    const records = (await readFile(json, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { sourceId: string; timestampMs: number });
    expect(records.length).toBeGreaterThan(3);
    expect(records.every((record) => record.sourceId === server.url && Number.isFinite(record.timestampMs))).toBe(true);
    expect(result.stdout).toContain(`Processed ${records.length} frames of ${server.url}`);
  });

  it('reads a camera given by --camera', async () => {
    const json = fixtures.file('camera.jsonl');

    const result = await runCli([
      'detect', '--camera', 'testsrc2=size=64x48:rate=10', '--camera-format', 'lavfi',
      '--model', model, '--timeout', '1.5', '--json', json, '--no-progress',
    ]);

    expect(result.code, result.stderr).toBe(0);
    const lines = (await readFile(json, 'utf8')).trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!)).toMatchObject({ sourceId: 'camera:testsrc2=size=64x48:rate=10' });
    expect(result.stdout).toContain('frames of camera testsrc2=size=64x48:rate=10');
  });

  it('keeps the password of an unreachable stream out of its output', async () => {
    const port = await freePort();

    const result = await runCli([
      'detect', `rtsp://camuser:s3cr%21t@127.0.0.1:${port}/live`, '--model', model,
      '--timeout', '2', '--stall-timeout', '1', '--rtsp-transport', 'tcp', '--no-progress',
    ]);

    expect(result.code, result.stderr).toBe(0);
    // The lost connection was reported, masked.
    expect(result.stderr).toContain(`rtsp://***:***@127.0.0.1:${port}/live`);
    const output = result.stdout + result.stderr;
    expect(output).not.toContain('s3cr%21t');
    expect(output).not.toContain('s3cr!t');
    expect(output).not.toContain('camuser');
  });

  it('suggests --live for an HTTP server that is down', async () => {
    const port = await freePort();

    const result = await runCli(['detect', `http://127.0.0.1:${port}/stream.mjpg`, '--model', model, '--no-progress']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Connection refused');
    expect(result.stderr).toContain('Check that the server is running');
    expect(result.stderr).toContain('pass --live');
  });

  it.each([
    [['detect', 'rtsp://127.0.0.1/x', '--rtsp-transport', 'quic'], /Invalid --rtsp-transport/],
    [['detect', 'rtsp://127.0.0.1/x', '--timeout', '0'], /Invalid --timeout/],
    [['detect', 'clip.mp4', '--camera', '0'], /either INPUT or --camera/],
    [['detect', 'ftp://user:pw@host/x.mp4'], /Unsupported input URL "ftp:\/\/\*\*\*:\*\*\*@host\/x.mp4"/],
  ])('rejects %j with a usage error', async (args, message) => {
    const result = await runCli([...args, '--model', model]);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
