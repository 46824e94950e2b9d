/**
 * Counters the benchmark reads around each measurement: CPU time split between the main thread,
 * the other threads of this process (inference workers, ONNX Runtime, libuv, GC) and the child
 * processes (ffmpeg), event-loop delay and utilisation, and resident memory.
 *
 * CPU times come from Linux's /proc. `cutime`/`cstime` count only children that have exited and
 * been reaped, which holds for ffmpeg once a pipeline has completed. On other systems the CPU
 * fields are zero.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

/** CPU seconds spent so far, by where they were spent. */
export interface CpuSnapshot {
  readonly mainThread: number;
  /** Every thread of this process, the main thread included. */
  readonly process: number;
  /** Children that have exited (ffmpeg, ffprobe). */
  readonly children: number;
}

/** CPU seconds spent during one measurement. */
export interface CpuUsage {
  readonly mainThread: number;
  readonly otherThreads: number;
  readonly children: number;
  readonly total: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** Fields after the command name of a /proc stat line, 0-based from field 3 (`state`). */
function statFields(path: string): string[] | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Reads the CPU seconds this process and its reaped children have used so far. */
export function readCpu(): CpuSnapshot {
  const self = statFields('/proc/self/stat');
  const main = statFields(`/proc/self/task/${process.pid}/stat`);
  if (!self || !main) return { mainThread: 0, process: 0, children: 0 };
  // Fields 14-17 of proc(5) (utime, stime, cutime, cstime) are entries 11-14 here.
  const ticks = (fields: string[], first: number, last: number): number => {
    let sum = 0;
    for (let index = first; index <= last; index += 1) sum += Number(fields[index]);
    return sum / CLOCK_TICKS_PER_SECOND;
  };
  return { mainThread: ticks(main, 11, 12), process: ticks(self, 11, 12), children: ticks(self, 13, 14) };
}

/** CPU seconds between two snapshots. */
export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): CpuUsage {
  const mainThread = end.mainThread - start.mainThread;
  const otherThreads = end.process - start.process - mainThread;
  const children = end.children - start.children;
  return { mainThread, otherThreads, children, total: mainThread + otherThreads + children };
}

/**
 * CPU seconds all processes on the machine have spent so far (user, nice, system, interrupts and
 * steal time from the first line of /proc/stat), or 0 where /proc/stat does not exist.
 */
export function readMachineCpu(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Event-loop delay percentiles in milliseconds, and the main thread's event-loop utilisation (0..1). */
export interface LoopStats {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly utilization: number;
}

/**
 * Watches the main thread's event loop from `start()` to `stop()`. The delay histogram samples
 * every `resolutionMs` milliseconds and records how late each sample ran.
 */
export class LoopMonitor {
  private readonly histogram: IntervalHistogram;
  private startUtilization: EventLoopUtilization | undefined;

  constructor(resolutionMs = 5) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  start(): void {
    this.histogram.reset();
    this.histogram.enable();
    this.startUtilization = performance.eventLoopUtilization();
  }

  stop(): LoopStats {
    this.histogram.disable();
    const utilization = performance.eventLoopUtilization(this.startUtilization).utilization;
    const toMs = (nanoseconds: number): number => nanoseconds / 1e6;
    return {
      p50Ms: toMs(this.histogram.percentile(50)),
      p99Ms: toMs(this.histogram.percentile(99)),
      maxMs: toMs(this.histogram.max),
      utilization,
    };
  }
}

/** Samples the resident set size every `intervalMs` and keeps the peak. */
export class RssSampler {
  peakBytes = process.memoryUsage.rss();
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs = 100): void {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakBytes) this.peakBytes = rss;
    return rss;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }
}

/** Bytes to MiB, for reports. */
export function toMiB(bytes: number): number {
  return bytes / 2 ** 20;
}
