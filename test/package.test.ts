import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

// Packs the package as npm would publish it, installs the tarball into a fresh project and imports it.
describe('packed package', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'framewise-pack-'));
    const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
    await run('npm', ['pack', '--pack-destination', dir], { cwd: root, env });
    const tarball = (await readdir(dir)).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${dir}`);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball), 'rxjs@7'], { cwd: dir, env });
  }, 240_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exposes the root entry and the operators subpath', async () => {
    const script = `
      const root = await import('framewise');
      const ops = await import('framewise/operators');
      console.log(JSON.stringify({
        root: ['fromVideoFile', 'loadDetector', 'runPipeline', 'FramewiseError'].map((name) => typeof root[name]),
        ops: ['detect', 'annotate', 'writeVideo', 'writeJsonLines'].map((name) => typeof ops[name]),
      }));`;
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({
      root: ['function', 'function', 'function', 'function'],
      ops: ['function', 'function', 'function', 'function'],
    });
  });

  it('installs a working framewise command', async () => {
    const { stdout } = await run(join(dir, 'node_modules', '.bin', 'framewise'), ['--version'], { cwd: dir });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
