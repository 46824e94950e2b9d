/**
 * Turns the harness results into the Markdown section appended to docs/benchmarks.md: absolute
 * numbers, and ratios computed within each round (both sides measured minutes apart under the
 * same load) and then reduced to their median.
 */
import type { LimitsResult, LongRunResult, PipelineResult } from './cases.js';
import type { ModelLimitResult } from './model-limit.js';
import type { NaiveResult } from './naive-loop.js';
import type { CpuUsage } from './process-stats.js';

/** A result and the share of the machine's CPU time (0..1) that other processes used while it ran. */
export interface Measured<T> {
  readonly result: T;
  readonly otherCpuShare: number;
}

/** The short measurements of one round. */
export interface Round {
  readonly limits: Measured<LimitsResult>;
  readonly detectOnly: Measured<PipelineResult>;
  readonly fullJob: Measured<PipelineResult>;
  readonly naive: Measured<NaiveResult & { cpu: CpuUsage }>;
  readonly sampled: Measured<PipelineResult>;
  /** sampleEvery(5) with `maxQueuedFrames: 4`, the source's default before it became 8. */
  readonly sampledShortQueue: Measured<PipelineResult>;
  /** Detection only with one worker of two intra-op threads, the other layout a 2-core machine allows. */
  readonly detectOneSession: Measured<PipelineResult>;
  readonly multiSource: readonly (Measured<PipelineResult> & { readonly batchSize: number })[];
}

/** Everything one harness run produced. */
export interface BenchmarkResults {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number; readonly system: string };
  readonly versions: { readonly node: string; readonly onnxruntimeNode: string; readonly ffmpeg: string };
  readonly command: string;
  readonly model: string;
  readonly video: string;
  readonly multiSource: { readonly sources: number; readonly framesPerSource: number };
  readonly longRunSettings: { readonly minutes: number; readonly detectorDelayMs: number; readonly detectorConcurrency: number; readonly maxQueuedFrames: number };
  readonly rounds: readonly Round[];
  readonly longRun?: Measured<LongRunResult>;
}

/** Share of CPU time taken by other processes above which a round is flagged as disturbed. */
const BUSY_MACHINE_SHARE = 0.1;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const fixed = (value: number, digits = 2): string => value.toFixed(digits);
/** Median, and every round's value in brackets when there is more than one. */
const withRounds = (values: readonly number[], digits = 2): string =>
  values.length > 1 ? `${fixed(median(values), digits)} (${values.map((value) => fixed(value, digits)).join(', ')})` : fixed(values[0] ?? 0, digits);

/** CPU seconds per frame: main thread / other threads / ffmpeg. */
function cpuPerFrame(cpu: CpuUsage, frames: number): string {
  const perFrame = (seconds: number): string => fixed((seconds * 1000) / frames, 1);
  return `${perFrame(cpu.mainThread)} / ${perFrame(cpu.otherThreads)} / ${perFrame(cpu.children)}`;
}

function verdict(value: number, target: number, higherIsBetter: boolean, unit = ''): string {
  const met = higherIsBetter ? value >= target : value < target;
  const gap = Math.abs(value - target);
  const share = target !== 0 ? ` (${fixed((gap / target) * 100, 0)} %)` : '';
  return met ? `met, margin ${fixed(gap)}${unit}` : `**missed** by ${fixed(gap)}${unit}${share}`;
}

/** Formats the report section. */
export function formatReport(results: BenchmarkResults): string {
  const { rounds } = results;
  const column = <T>(pick: (round: Round) => T): T[] => rounds.map(pick);
  const roundShares = rounds.map((round) =>
    Math.max(...[round.limits, round.detectOnly, round.fullJob, round.naive, round.sampled, round.sampledShortQueue, round.detectOneSession, ...round.multiSource].map((entry) => entry.otherCpuShare)),
  );
  const percent = (share: number): string => `${fixed(share * 100, 0)} %`;
  const minutes = (results.finishedAt.getTime() - results.startedAt.getTime()) / 60_000;

  // The faster of the mean and the median run time: a run slowed down by other work on the machine
  // then lowers the limit less, and the ratios against it stay conservative.
  const limitFps = column((round) => limitOf(round.limits.result.defaultSession));
  const layoutFps = column((round) => round.limits.result.framewiseLayout.wallFps);
  const detectFps = column((round) => round.detectOnly.result.fps);
  const fullFps = column((round) => round.fullJob.result.fps);
  const naiveFps = column((round) => round.naive.result.fps);
  const sampledFps = column((round) => round.sampled.result.fps);

  const detectVsLimit = rounds.map((_, index) => (detectFps[index] as number) / (limitFps[index] as number));
  const detectVsLayout = rounds.map((_, index) => (detectFps[index] as number) / (layoutFps[index] as number));
  const fullVsDetect = rounds.map((_, index) => (fullFps[index] as number) / (detectFps[index] as number));
  const fullVsNaive = rounds.map((_, index) => (fullFps[index] as number) / (naiveFps[index] as number));
  const sampledVsDetect = rounds.map((_, index) => (sampledFps[index] as number) / (detectFps[index] as number));
  const shortQueueVsDetect = rounds.map((round, index) => round.sampledShortQueue.result.fps / (detectFps[index] as number));
  const oneSessionVsDetect = rounds.map((round, index) => round.detectOneSession.result.fps / (detectFps[index] as number));
  const hidden = rounds.map((round, index) => hiddenShare(round.naive.result, fullFps[index] as number));
  // Every pipeline that runs a real model, in every round.
  const loopP99 = rounds.flatMap((round) =>
    [round.detectOnly, round.fullJob, round.sampled, round.sampledShortQueue, round.detectOneSession, ...round.multiSource].map((entry) => entry.result.loop.p99Ms),
  );
  const loopP99Median = rounds.map((round) => median([round.detectOnly.result.loop.p99Ms, round.fullJob.result.loop.p99Ms]));
  const first = rounds[0] as Round;

  const lines: string[] = [
    `## Run of ${results.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${results.machine.cpu}, ${results.machine.cores} cores available, ${fixed(results.machine.memoryGiB, 0)} GiB RAM, ${results.machine.system}`,
    `- Versions: Node ${results.versions.node}, onnxruntime-node ${results.versions.onnxruntimeNode}, ${results.versions.ffmpeg}`,
    `- Command: \`${results.command}\` (${fixed(minutes, 1)} minutes)`,
    `- Model \`${results.model}\`, video \`${results.video}\` (from the assets folder); framewise defaults: ${first.detectOnly.result.workers} workers x ${first.detectOnly.result.intraOpThreads} intra-op thread(s)`,
    `- CPU time taken by other processes during a measurement, highest per round: ${roundShares.map(percent).join(', ')}` +
      (results.longRun ? `; long run ${percent(results.longRun.otherCpuShare)}` : '') +
      (Math.max(...roundShares) > BUSY_MACHINE_SHARE ? ' (other work was running: absolute numbers are low, compare the ratios)' : ''),
    '',
    `### Throughput (median of ${rounds.length} round${rounds.length > 1 ? 's' : ''}, each round in brackets)`,
    '',
    '| measurement | fps | CPU ms per frame: main thread / other threads / ffmpeg (first round) | event-loop delay p99, ms | CPU taken by other processes |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| model limit: 1 session, ONNX Runtime defaults, \`session.run\` alone (faster of mean and median) | ${withRounds(limitFps)} | | | ${shares(column((round) => round.limits))} |`,
    `| framewise layout limit: ${first.limits.result.framewiseLayout.sessions} sessions side by side, \`session.run\` alone | ${withRounds(layoutFps)} | | | (measured with the limit) |`,
    pipelineRow('framewise detection only', column((round) => round.detectOnly)),
    pipelineRow('framewise detect + annotate + writeVideo', column((round) => round.fullJob)),
    `| naive sequential loop (1 session, defaults) | ${withRounds(naiveFps)} | ${cpuPerFrame(first.naive.result.cpu, first.naive.result.frames)} | | ${shares(column((round) => round.naive))} |`,
    pipelineRow('framewise sampleEvery(5) + detect', column((round) => round.sampled)),
    pipelineRow('framewise sampleEvery(5) + detect, maxQueuedFrames 4', column((round) => round.sampledShortQueue)),
    pipelineRow('framewise detection only, 1 worker x 2 intra-op threads', column((round) => round.detectOneSession)),
    '',
    '### Targets',
    '',
    '| target | measured (median, rounds in brackets) | result |',
    '| --- | ---: | --- |',
    `| detection only >= 0.95 x model limit | ${withRounds(detectVsLimit, 3)} | ${verdict(median(detectVsLimit), 0.95, true)} |`,
    `| detect + annotate + writeVideo >= 0.90 x detection only | ${withRounds(fullVsDetect, 3)} | ${verdict(median(fullVsDetect), 0.9, true)} |`,
    `| detect + annotate + writeVideo faster than the naive loop | ${withRounds(fullVsNaive, 2)} x | ${verdict(median(fullVsNaive), 1, true, ' x')} |`,
    `| sampleEvery(5) >= 4 x every frame | ${withRounds(sampledVsDetect, 2)} x | ${verdict(median(sampledVsDetect), 4, true, ' x')} |`,
    `| event-loop delay p99 < 20 ms while inferring: highest of every pipeline row, every round | ${fixed(Math.max(...loopP99), 1)} ms (detection only and full job: ${withRounds(loopP99Median, 1)} ms) | ${verdict(Math.max(...loopP99), 20, false, ' ms')} |`,
  ];
  if (results.longRun) {
    const growth = longRunGrowth(results.longRun.result);
    lines.push(`| RSS growth < 50 MB from minute 1 to minute ${growth.lastMinute} | ${fixed(growth.growthMB, 1)} MB | ${verdict(growth.growthMB, 50, false, ' MB')} |`);
  }

  lines.push(
    '',
    `Other ratios: detection only / framewise layout limit ${withRounds(detectVsLayout, 3)}; ` +
      `share of the naive loop's non-inference time that the full job hides ${withRounds(hidden.map((value) => value * 100), 0)} %; ` +
      `sampleEvery(5) with maxQueuedFrames 4 / every frame ${withRounds(shortQueueVsDetect, 2)}; ` +
      `1 worker x 2 threads / default layout ${withRounds(oneSessionVsDetect, 3)}.`,
    '',
    ...naiveSection(rounds),
    ...workerSection(rounds),
    ...multiSourceSection(results),
  );
  if (results.longRun) lines.push(...longRunSection(results));
  return lines.join('\n');
}

function limitOf(result: ModelLimitResult): number {
  return Math.max(result.runFps, (1000 * result.sessions) / result.runMsMedian);
}

/** Per round, the share of CPU time other processes took during the measurement. */
function shares(entries: readonly Measured<unknown>[]): string {
  return entries.map((entry) => `${fixed(entry.otherCpuShare * 100, 0)} %`).join(', ');
}

function pipelineRow(name: string, entries: readonly Measured<PipelineResult>[]): string {
  const results = entries.map((entry) => entry.result);
  const first = results[0] as PipelineResult;
  return `| ${name} | ${withRounds(results.map((result) => result.fps))} | ${cpuPerFrame(first.cpu, first.frames)} | ${withRounds(results.map((result) => result.loop.p99Ms), 1)} | ${shares(entries)} |`;
}

/**
 * Share of the naive loop's non-inference time per frame that the framewise full job does not
 * pay: 1 when the full job takes no longer per frame than the naive loop's inference alone.
 */
export function hiddenShare(naive: NaiveResult, fullFps: number): number {
  const naiveFrameMs = (naive.seconds * 1000) / naive.frames;
  const inferenceMs = naive.steps.inferenceMs / naive.frames;
  const otherMs = naiveFrameMs - inferenceMs;
  const exposedMs = Math.max(0, 1000 / fullFps - inferenceMs);
  return otherMs > 0 ? Math.max(0, 1 - exposedMs / otherMs) : 1;
}

function naiveSection(rounds: readonly Round[]): string[] {
  const steps = ['readMs', 'preprocessMs', 'inferenceMs', 'postprocessMs', 'drawMs', 'writeMs'] as const;
  const rows = rounds.map((round, index) => {
    const { frames } = round.naive.result;
    return `| ${index + 1} | ${steps.map((step) => fixed(round.naive.result.steps[step] / frames, 1)).join(' | ')} |`;
  });
  return [
    '### Naive loop: wall time per frame by step (ms)',
    '',
    '| round | read | preprocess | inference | postprocess | draw | write |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

function workerSection(rounds: readonly Round[]): string[] {
  const rows = rounds.flatMap((round, index) =>
    (
      [
        ['detection only', round.detectOnly.result],
        ['full job', round.fullJob.result],
        ['sampleEvery(5)', round.sampled.result],
        ['sampleEvery(5), 4 queued', round.sampledShortQueue.result],
      ] as const
    ).map(([name, result]) => {
      const batches = result.batches;
      if (!batches) return `| ${index + 1} | ${name} | | | | | |`;
      return `| ${index + 1} | ${name} | ${fixed(batches.preprocessMsPerImage, 1)} | ${fixed(batches.runMsPerImage, 1)} | ${fixed(batches.decodeMsPerImage, 1)} | ${fixed(batches.runShareMean * 100, 0)} % | ${result.flow.maxQueued} / ${result.flow.pauses} |`;
    }),
  );
  return [
    '### Inside the workers (per image) and at the source',
    '',
    '| round | pipeline | preprocess ms | session.run ms | decode ms | time each session spent in run | source: max queued / pauses |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

function multiSourceSection(results: BenchmarkResults): string[] {
  const { rounds } = results;
  const sizes = (rounds[0] as Round).multiSource.map((entry) => entry.batchSize);
  const rows = sizes.map((batchSize, position) => {
    const entries = rounds.map((round) => round.multiSource[position] as Measured<PipelineResult> & { batchSize: number });
    const fps = entries.map((entry) => entry.result.fps);
    const ratios = rounds.map((round, index) => (fps[index] as number) / ((round.multiSource[0] as Measured<PipelineResult>).result.fps));
    const batches = entries[0]?.result.batches;
    return `| ${batchSize} | ${withRounds(fps)} | ${withRounds(ratios, 2)} | ${batches ? fixed(batches.meanBatchSize, 2) : ''} | ${batches ? fixed(batches.runMsPerImage, 1) : ''} | ${fixed((batches?.idleShare ?? 0) * 100, 0)} % | ${withRounds(entries.map((entry) => entry.result.loop.p99Ms), 1)} | ${fixed(entries[0]?.result.peakRssMiB ?? 0, 0)} | ${shares(entries)} |`;
  });
  return [
    `### Multi-source: ${results.multiSource.sources} sources of ${results.multiSource.framesPerSource} frames (768x432), synthetic dynamic-batch conv model (640x640 input, about 7.9 GFLOPs per image)`,
    '',
    '| maxBatchSize | fps, all sources | ratio to batch 1 | mean images per run (first round) | session.run ms per image | no session running | event-loop delay p99, ms | peak RSS, MiB | CPU taken by other processes |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

/**
 * RSS growth between the start of media minute 1 (minute 0 for a shorter run) and the last frame,
 * in MB (10^6 bytes); `lastMinute` is the media length in whole minutes.
 */
function longRunGrowth(result: LongRunResult): { growthMB: number; lastMinute: number } {
  const rss = result.rssByMinuteMiB;
  const atMinuteOne = rss[Math.min(1, rss.length - 1)] ?? 0;
  return { growthMB: ((result.rssAtEndMiB - atMinuteOne) * 2 ** 20) / 1e6, lastMinute: rss.length };
}

function longRunSection(results: BenchmarkResults): string[] {
  const run = results.longRun?.result as LongRunResult;
  const settings = results.longRunSettings;
  const growth = longRunGrowth(run);
  return [
    `### Long run: ${settings.minutes}-minute 1280x720 25 fps video, stand-in detector (${settings.detectorDelayMs} ms, ${settings.detectorConcurrency} at once), then annotate`,
    '',
    `- ${run.frames} frames in ${fixed(run.seconds, 0)} s (${fixed(run.fps, 1)} fps); queue bound (maxQueuedFrames) ${settings.maxQueuedFrames}, highest queue ${run.flow.maxQueued}, ${run.flow.pauses} pauses`,
    `- RSS at the start of each media minute (MiB): ${run.rssByMinuteMiB.map((value) => fixed(value, 0)).join(', ')}; ${fixed(run.rssAtEndMiB, 0)} after the last frame; peak ${fixed(run.peakRssMiB, 0)} MiB; growth from minute 1 to the end (minute ${growth.lastMinute}): ${fixed(growth.growthMB, 1)} MB`,
    `- V8 heap in use at each minute (MiB): ${run.heapByMinuteMiB.map((value) => fixed(value, 0)).join(', ')}`,
    `- Event-loop delay p99 ${fixed(run.loop.p99Ms, 1)} ms, max ${fixed(run.loop.maxMs, 1)} ms`,
    '',
  ];
}
