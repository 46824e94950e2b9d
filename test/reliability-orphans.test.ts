// Fault injection: start and abort runs again and again, also while ffmpeg or ffprobe is blocked
// on an HTTP server that stopped sending, and with stand-in binaries that ignore SIGTERM. After
// every abort, no process that framewise started may be left. `npm run test:faults` runs this file.
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeVideo } from '../operators/write-video.js';
import { isFramewiseError } from '../src/errors.js';
import { runningChildPids, spawnTracked, terminate } from '../src/ffmpeg/process.js';
import { runPipeline } from '../src/runner.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { Frame } from '../src/types.js';
import { createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { delay, inspectMedia, osChildPids, startFrozenServer, waitFor, type FrozenServer } from './helpers/reliability.js';

/** Liveness bound for one aborted run to settle; the slowest case needs about 3 s (SIGKILL grace periods). */
const SETTLE_DEADLINE_MS = 15_000;

let media: TempMediaDir;
let clip: string;
/** Sends the first 60 % of an MPEG-TS, then nothing: ffmpeg decodes those frames and blocks. */
let stalledAfterFrames: FrozenServer;
/** Sends 2000 bytes, then nothing: ffprobe blocks before it has seen a frame. */
let stalledBeforeProbe: FrozenServer;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-faults-');
  clip = media.file('clip.mp4');
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=20', '-c:v', 'libx264', '-preset', 'ultrafast', clip);
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=10', '-c:v', 'libx264', '-g', '25', '-f', 'mpegts', 'stream.ts');
  const ts = await readFile(media.file('stream.ts'));
  stalledAfterFrames = await startFrozenServer(ts, Math.floor(ts.length * 0.6));
  stalledBeforeProbe = await startFrozenServer(ts, 2000);
});

afterAll(async () => {
  await stalledAfterFrames?.close();
  await stalledBeforeProbe?.close();
  await media?.remove();
});

/** How one run is started and when it is aborted. */
interface Cycle {
  readonly name: string;
  readonly source: () => Observable<Frame>;
  /** Resolves when the run should be aborted, given the number of values seen so far. */
  readonly abortWhen: (values: () => number) => Promise<void>;
  /** True when the output must hold exactly the frames that went through. */
  readonly checkOutput: boolean;
}

/** Resolves once no value has arrived for `quietMs`, after at least one did. */
async function stalled(values: () => number, quietMs = 300): Promise<void> {
  await waitFor('a first frame', () => values() > 0);
  let last = -1;
  while (values() !== last) {
    last = values();
    await delay(quietMs);
  }
}

const CYCLES: readonly Cycle[] = [
  { name: 'file, at once', source: () => fromVideoFile(clip), abortWhen: async () => undefined, checkOutput: false },
  { name: 'file, while probing', source: () => fromVideoFile(clip), abortWhen: () => waitFor('ffprobe', () => runningChildPids().length > 0), checkOutput: false },
  { name: 'file, after 1 frame', source: () => fromVideoFile(clip), abortWhen: (values) => waitFor('1 frame', () => values() >= 1), checkOutput: true },
  { name: 'file, after 40 frames', source: () => fromVideoFile(clip), abortWhen: (values) => waitFor('40 frames', () => values() >= 40), checkOutput: true },
  { name: 'url, ffmpeg blocked', source: () => fromVideoFile(stalledAfterFrames.url), abortWhen: (values) => stalled(values), checkOutput: true },
  {
    name: 'url, ffprobe blocked',
    source: () => fromVideoFile(stalledBeforeProbe.url),
    abortWhen: async () => {
      await waitFor('ffprobe', () => runningChildPids().length > 0);
      await delay(200);
    },
    checkOutput: false,
  },
];

describe('abort cycles', () => {
  it('runs ffmpeg in its own process group', async () => {
    const child = spawnTracked('sleep', ['5'], { stdio: 'ignore' });
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'latin1');
      const processGroup = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      expect(processGroup).toBe(child.pid);
    } finally {
      await terminate(child);
    }
  });

  it('leaves no process after 20 aborted runs', async () => {
    const before = osChildPids();
    expect(runningChildPids()).toEqual([]);

    for (let cycle = 0; cycle < 20; cycle += 1) {
      const { name, source, abortWhen, checkOutput } = CYCLES[cycle % CYCLES.length] as Cycle;
      const output = media.file(`cycle-${cycle}.mp4`);
      const controller = new AbortController();
      let values = 0;
      let settlements = 0;

      const run = runPipeline(source().pipe(writeVideo(output)), { signal: controller.signal, onValue: () => (values += 1) });
      const settled = run.then(
        () => {
          settlements += 1;
          return undefined;
        },
        (error: unknown) => {
          settlements += 1;
          return error;
        },
      );
      await abortWhen(() => values);
      controller.abort();
      const startedAt = Date.now();
      const error = await settled;

      expect(Date.now() - startedAt, `cycle ${cycle} (${name}) settles`).toBeLessThan(SETTLE_DEADLINE_MS);
      expect(isFramewiseError(error, 'ABORTED'), `cycle ${cycle} (${name}) rejects with ABORTED`).toBe(true);
      expect(runningChildPids(), `cycle ${cycle} (${name}) tracked children`).toEqual([]);
      expect(osChildPids(), `cycle ${cycle} (${name}) operating-system children`).toEqual(before);
      if (checkOutput) expect((await inspectMedia(output)).frames, `cycle ${cycle} (${name}) output`).toBe(values);
      await delay(50);
      expect(settlements, `cycle ${cycle} (${name}) settlements`).toBe(1);
    }

    expect(stalledAfterFrames.requests()).toBeGreaterThan(0);
    expect(stalledBeforeProbe.requests()).toBeGreaterThan(0);
    expect(readdirSync(media.path).filter((name) => name.includes('.partial-'))).toEqual([]);
  }, 120_000);
});

describe('binaries that ignore SIGTERM', () => {
  /** Writes a stand-in ffmpeg that passes the version check and then ignores SIGTERM until killed. */
  async function stubbornFfmpeg(name: string): Promise<string> {
    const path = media.file(name);
    // `exec` keeps one process: the ignored SIGTERM is inherited by sleep, and SIGKILL ends it.
    await writeFile(path, "#!/bin/sh\nif [ \"$1\" = \"-version\" ]; then echo 'ffmpeg version 5.1-test'; exit 0; fi\ntrap '' TERM\nexec sleep 60\n");
    await chmod(path, 0o755);
    return path;
  }

  it('kills a decoder that ignores SIGTERM', async () => {
    const ffmpegPath = await stubbornFfmpeg('stubborn-decoder.sh');
    const controller = new AbortController();
    const run = runPipeline(fromVideoFile(clip, { ffmpegPath }), { signal: controller.signal }).catch((error: unknown) => error);
    await waitFor('the decoder', () => runningChildPids().length > 0 && readFileSync(`/proc/${runningChildPids()[0]}/cmdline`, 'latin1').includes('sleep'));
    const [decoder] = runningChildPids();

    controller.abort();
    const error = await run;

    expect(isFramewiseError(error, 'ABORTED')).toBe(true);
    expect(runningChildPids()).toEqual([]);
    expect(() => process.kill(decoder as number, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('kills an encoder that ignores SIGTERM', async () => {
    const ffmpegPath = await stubbornFfmpeg('stubborn-encoder.sh');
    const output = media.file('stubborn.mp4');
    const controller = new AbortController();
    let values = 0;
    const run = runPipeline(fromVideoFile(clip).pipe(writeVideo(output, { ffmpegPath, finalizeTimeoutMs: 200 })), {
      signal: controller.signal,
      onValue: () => (values += 1),
    }).catch((error: unknown) => error);
    // The stand-in never reads its input, so frames stop once the pipe is full.
    await stalled(() => values);

    controller.abort();
    const error = await run;

    expect(isFramewiseError(error, 'ABORTED')).toBe(true);
    expect(runningChildPids()).toEqual([]);
    expect(readdirSync(media.path).filter((name) => name.startsWith('stubborn.mp4'))).toEqual([]);
  });
});
