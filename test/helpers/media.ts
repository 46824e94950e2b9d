import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LogFields, Logger } from '../../src/logger.js';

const execFileAsync = promisify(execFile);

/**
 * Folder of the shared models and videos: `FRAMEWISE_ASSETS` when set (as for the main job and the
 * benchmarks), otherwise `../shared` beside the repository. It may not exist, as on a user's machine.
 */
export const sharedDir: string = process.env.FRAMEWISE_ASSETS
  ? resolve(process.env.FRAMEWISE_ASSETS)
  : fileURLToPath(new URL('../../../shared/', import.meta.url));

/** Path of `relativePath` inside {@link sharedDir}, whether or not the file exists. */
export function sharedPath(...relativePath: string[]): string {
  return join(sharedDir, ...relativePath);
}

/** Path of the shared media folder, or undefined when it is absent. */
export const sharedMediaDir: string | undefined = existsSync(sharedPath('media')) ? sharedPath('media') : undefined;

/** Path of a file in the shared media folder, or undefined when the file is absent. */
export function sharedMedia(name: string): string | undefined {
  if (!sharedMediaDir) return undefined;
  const path = join(sharedMediaDir, name);
  return existsSync(path) ? path : undefined;
}

/** A temporary folder for generated media; `remove()` deletes it with its contents. */
export interface TempMediaDir {
  readonly path: string;
  /** Path of `name` inside the folder. */
  file(name: string): string;
  /** Runs ffmpeg with `args` (overwriting outputs, errors only on stderr); rejects when it fails. */
  ffmpeg(...args: string[]): Promise<void>;
  remove(): Promise<void>;
}

/** Creates a temporary folder under the OS temp dir for media that a test generates with ffmpeg. */
export async function createTempMediaDir(prefix = 'framewise-test-'): Promise<TempMediaDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    async ffmpeg(...args) {
      await execFileAsync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { cwd: path });
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** One call a {@link RecordingLogger} received. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields | undefined;
}

/** A logger that records every call, for assertions on warnings. */
export interface RecordingLogger extends Logger {
  readonly entries: LogEntry[];
  /** Entries of one level. */
  at(level: LogEntry['level']): LogEntry[];
}

export function createRecordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  const record =
    (level: LogEntry['level']) =>
    (message: string, fields?: LogFields): void => {
      entries.push({ level, message, fields });
    };
  return {
    entries,
    at: (level) => entries.filter((entry) => entry.level === level),
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}

/** Resolves once no framewise child process is running, or rejects after `timeoutMs`. */
export async function waitForNoChildren(runningChildPids: () => number[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (runningChildPids().length > 0) {
    if (Date.now() > deadline) throw new Error(`Child processes still running: ${runningChildPids().join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
