/**
 * CPU profile of the framewise pipelines: runs detection only and the full job once each under
 * `node --cpu-prof` (main thread and every worker thread get a profile) and prints, per thread, the
 * functions with the most self time. Profiling slows the run down, so its fps are not comparable
 * with `npm run bench`; the shares of time are what it is for.
 *
 * Run: npm run bench:profile   (FRAMEWISE_ASSETS as for npm run bench)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MeasurementRequest } from './cases.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const assets = resolve(repositoryRoot, process.env.FRAMEWISE_ASSETS ?? '../shared');
const TOP_FUNCTIONS = 12;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

/** Self time per function, in samples, with the share of all samples of the thread. */
export function topFunctions(profile: CpuProfile, count: number): { name: string; share: number }[] {
  const totals = new Map<string, number>();
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? ` ${basename(url)}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'}${where}`;
    totals.set(name, (totals.get(name) ?? 0) + hits);
    all += hits;
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => ({ name, share: hits / all }));
}

function profileCase(label: string, request: MeasurementRequest): void {
  const directory = mkdtempSync(join(os.tmpdir(), 'framewise-profile-'));
  try {
    const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${directory}`, '--import', 'tsx', join(repositoryRoot, 'bench/measure.ts'), JSON.stringify(request)], {
      cwd: repositoryRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`Profiling ${label} failed with exit code ${run.status}`);
    process.stdout.write(`\n## ${label}\n`);
    // File names end in <pid>.<thread id>.<sequence>.cpuprofile; thread 0 is the main thread.
    for (const file of readdirSync(directory).sort()) {
      const profile = JSON.parse(readFileSync(join(directory, file), 'utf8')) as CpuProfile;
      const threadId = file.split('.').at(-3);
      const seconds = (profile.endTime - profile.startTime) / 1e6;
      process.stdout.write(`\n### ${threadId === '0' ? 'main thread' : `worker thread ${threadId}`} (${seconds.toFixed(1)} s profiled)\n\n`);
      for (const entry of topFunctions(profile, TOP_FUNCTIONS)) {
        process.stdout.write(`- ${(entry.share * 100).toFixed(1)} % ${entry.name}\n`);
      }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const video = { modelPath: join(assets, 'models/yolov8n_int8.onnx'), videoPath: join(assets, 'media/car-detection.mp4') };
profileCase('detection only', { kind: 'pipeline', ...video, stages: 'detect' });
profileCase('detect + annotate + writeVideo', { kind: 'pipeline', ...video, stages: 'full' });
