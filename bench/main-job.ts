/**
 * Benchmark of the main job. Measures, in one run:
 *   1. frames per second of detection alone and of the full job (detect, annotate, writeVideo) on
 *      car-detection.mp4 with yolov8n_int8.onnx;
 *   2. event-loop delay (p50, p99, max) during the full job;
 *   3. peak RSS and queue bound while a generated 10-minute 1280x720 video is decoded through a
 *      deliberately slow detector.
 * Results are printed and appended to docs/benchmarks.md with the machine, versions and command.
 *
 * Run: FRAMEWISE_ASSETS=../shared npm run bench   (set BENCH_LONG_MINUTES to shorten part 3)
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { detect } from '../operators/detect.js';
import { annotate } from '../operators/annotate.js';
import { writeVideo } from '../operators/write-video.js';
import { createFlowCounters } from '../src/backpressure.js';
import { runPipeline } from '../src/runner.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { Detection } from '../src/types.js';

const assets = resolve(process.env.FRAMEWISE_ASSETS ?? '../shared');
const modelPath = join(assets, 'models/yolov8n_int8.onnx');
const videoPath = join(assets, 'media/car-detection.mp4');
const longMinutes = Number(process.env.BENCH_LONG_MINUTES ?? 10);
const slowDetectorMs = 20;

function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const ort = require('onnxruntime-node/package.json') as { version: string };
  const ffmpeg = execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n', 1)[0] ?? '';
  return { node: process.version, onnxruntimeNode: ort.version, ffmpeg };
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores available, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}`;
}

async function fpsOf(name: string, build: () => Parameters<typeof runPipeline>[0]): Promise<{ name: string; frames: number; seconds: number; fps: number }> {
  const result = await runPipeline(build());
  const seconds = result.elapsedMs / 1000;
  return { name, frames: result.values, seconds, fps: result.values / seconds };
}

/** A detector that only waits, so decoding always outruns it and backpressure must hold the source. */
function slowDetector(delayMs: number): Detector {
  return {
    concurrency: 2,
    info: {
      path: 'slow', family: 'slow', inputWidth: 0, inputHeight: 0, labels: ['object'], batchSize: 1,
      executionProviders: ['none'], workers: 0, intraOpThreads: 0,
    },
    detect: () => new Promise<Detection[]>((done) => setTimeout(() => done([]), delayMs)),
    dispose: async () => {},
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(os.tmpdir(), 'framewise-bench-'));
  try {
    const detector = await loadDetector(modelPath);
    const detectOnly = await fpsOf('detection only', () => fromVideoFile(videoPath).pipe(detect(detector)));

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const fullJob = await fpsOf('detect + annotate + writeVideo', () =>
      fromVideoFile(videoPath).pipe(detect(detector), annotate(), writeVideo(join(work, 'out.mp4'), { audioFrom: videoPath })),
    );
    delay.disable();
    await detector.dispose();
    const loopDelay = { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };

    const longVideo = join(work, 'long.mp4');
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${longMinutes * 60}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', longVideo,
    ]);
    const counters = createFlowCounters();
    const maxQueuedFrames = 4;
    let peakRss = process.memoryUsage().rss;
    const rssAtStart = peakRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const long = await fpsOf(`${longMinutes}-minute 1280x720 decode, ${slowDetectorMs} ms detector`, () =>
      fromVideoFile(longVideo, { counters, maxQueuedFrames }).pipe(detect(slowDetector(slowDetectorMs))),
    );
    clearInterval(sampler);

    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    const lines = [
      `## ${new Date().toISOString().slice(0, 10)}: main job`,
      '',
      `- Machine: ${machine()}`,
      `- Versions: Node ${versions().node}, onnxruntime-node ${versions().onnxruntimeNode}, ${versions().ffmpeg}`,
      `- Command: \`FRAMEWISE_ASSETS=${process.env.FRAMEWISE_ASSETS ?? '../shared'} npm run bench\``,
      `- Detector: ${detector.info.family}, ${detector.info.workers} workers x ${detector.info.intraOpThreads} intra-op thread(s)`,
      '',
      '| measurement | frames | seconds | fps |',
      '| --- | ---: | ---: | ---: |',
      ...[detectOnly, fullJob, long].map((r) => `| ${r.name} | ${r.frames} | ${r.seconds.toFixed(1)} | ${r.fps.toFixed(2)} |`),
      '',
      `- Full job / detection only: ${(fullJob.fps / detectOnly.fps).toFixed(3)}`,
      `- Event-loop delay during the full job: p50 ${loopDelay.p50.toFixed(1)} ms, p99 ${loopDelay.p99.toFixed(1)} ms, max ${loopDelay.max.toFixed(1)} ms`,
      `- Long decode: RSS ${mib(rssAtStart)} MiB at start, peak ${mib(peakRss)} MiB; queue bound ${maxQueuedFrames}, highest queue ${counters.maxQueued}, ${counters.pauses} pauses`,
      '',
    ];
    const text = lines.join('\n');
    process.stdout.write(`${text}\n`);
    appendFileSync(new URL('../docs/benchmarks.md', import.meta.url), `\n${text}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
