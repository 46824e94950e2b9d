import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { trackFinalization } from '../finalizers.js';

/** Children spawned through {@link spawnTracked} that have not exited yet. */
const running = new Set<ChildProcess>();

/** Process ids of the ffmpeg/ffprobe children framewise started that are still running. */
export function runningChildPids(): number[] {
  return [...running].map((child) => child.pid).filter((pid): pid is number => pid !== undefined);
}

/**
 * Spawns a child process and tracks it until it exits, so tests and shutdown code can check that
 * nothing is left running. Arguments are passed as an array, never through a shell.
 *
 * On POSIX systems the child gets its own process group (`detached: true`, not unref'd), so the
 * SIGINT a terminal sends to the whole foreground group on Ctrl-C reaches only the Node.js
 * process. framewise then stops its children itself, in order: an encoder that received the
 * terminal's SIGINT directly would end its file before the frames already queued for it were
 * written. Pass `detached: false` in `options` to keep a child in the caller's group.
 */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { windowsHide: true, detached: process.platform !== 'win32', ...options });
  running.add(child);
  const forget = (): void => {
    running.delete(child);
  };
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}

/** True once the child has exited or failed to start. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

/** Resolves when the child has exited (immediately if it already has). */
export function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

/**
 * Stops a child: SIGTERM first, then SIGKILL if it is still running after `graceMs`.
 * Resolves once it has exited. The stop is registered with the finalisation registry, so
 * `runPipeline` settles only after the child is gone.
 */
export function terminate(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  const stopped = stopChild(child, graceMs);
  trackFinalization(stopped);
  return stopped;
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const exited = waitForExit(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!hasExited(child)) child.kill('SIGKILL');
  }, graceMs);
  timer.unref();
  await exited;
  clearTimeout(timer);
}

/**
 * Sends `signal` (default SIGKILL) to every tracked child that is still running, at once and
 * without waiting. Meant for a process about to exit without a graceful stop, such as a CLI
 * receiving its second SIGINT: the children are in their own process groups, so nothing else
 * stops them. Returns the number of children signalled.
 */
export function killRunningChildren(signal: NodeJS.Signals = 'SIGKILL'): number {
  let signalled = 0;
  for (const child of running) {
    if (!hasExited(child) && child.kill(signal)) signalled += 1;
  }
  return signalled;
}
