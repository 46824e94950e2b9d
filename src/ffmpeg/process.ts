import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Children spawned through {@link spawnTracked} that have not exited yet. */
const running = new Set<ChildProcess>();

/** Process ids of the ffmpeg/ffprobe children framewise started that are still running. */
export function runningChildPids(): number[] {
  return [...running].map((child) => child.pid).filter((pid): pid is number => pid !== undefined);
}

/**
 * Spawns a child process and tracks it until it exits, so tests and shutdown code can check that
 * nothing is left running. Arguments are passed as an array, never through a shell.
 */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { windowsHide: true, ...options });
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
 * Resolves once it has exited.
 */
export async function terminate(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (hasExited(child)) return;
  const exited = waitForExit(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!hasExited(child)) child.kill('SIGKILL');
  }, graceMs);
  timer.unref();
  await exited;
  clearTimeout(timer);
}
