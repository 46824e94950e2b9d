import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject, concat, from, lastValueFrom, throwError, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toFrameRecord, writeJsonLines } from '../operators/write-json-lines.js';
import { isFramewiseError } from '../src/errors.js';
import { whenFinalized } from '../src/finalizers.js';
import type { DetectedFrame } from '../src/types.js';
import { makeDetection, makeFrame } from './helpers/fake-detector.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'framewise-jsonl-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function detected(index: number): DetectedFrame {
  return { ...makeFrame(index), detections: index % 2 === 0 ? [makeDetection(0, 'person', 0.75)] : [] };
}

describe('writeJsonLines', () => {
  it('writes one record per frame and passes frames through', async () => {
    const path = join(dir, 'out.jsonl');
    const frames = [0, 1, 2].map(detected);
    const passed = await lastValueFrom(from(frames).pipe(writeJsonLines(path), toArray()));
    expect(passed).toEqual(frames);

    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({
      index: 0,
      timestampMs: 0,
      sourceId: 'test',
      detections: [{ classId: 0, name: 'person', score: 0.75, box: [1, 1, 3, 2] }],
    });
    expect(lines.map((line) => line.timestampMs)).toEqual([0, 40, 80]);
  });

  it('leaves no temporary file behind', async () => {
    const path = join(dir, 'out.jsonl');
    await lastValueFrom(from([detected(0)]).pipe(writeJsonLines(path)));
    expect(await readdir(dir)).toEqual(['out.jsonl']);
  });

  it('keeps the lines written before an upstream error', async () => {
    const path = join(dir, 'out.jsonl');
    const failure = new Error('decode failed');
    await expect(lastValueFrom(concat(from([detected(0), detected(1)]), throwError(() => failure)).pipe(writeJsonLines(path)))).rejects.toBe(
      failure,
    );
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(2);
  });

  it('finalises the file on unsubscribe', async () => {
    const path = join(dir, 'out.jsonl');
    const input = new Subject<DetectedFrame>();
    const subscription = input.pipe(writeJsonLines(path)).subscribe();
    input.next(detected(0));
    subscription.unsubscribe();
    await whenFinalized();
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(1);
  });

  it('fails with OUTPUT_FAILED when the folder does not exist', async () => {
    const path = join(dir, 'missing', 'out.jsonl');
    const error = await lastValueFrom(from([detected(0)]).pipe(writeJsonLines(path))).catch((reason: unknown) => reason);

    expect(isFramewiseError(error, 'OUTPUT_FAILED')).toBe(true);
    expect((error as Error).message).toContain(`Cannot write ${JSON.stringify(path)}: the folder does not exist (ENOENT)`);
    // The temporary file is an implementation detail, so the message does not name it.
    expect((error as Error).message).not.toContain('.partial');
  });

  it('builds records without pixels', () => {
    expect(Object.keys(toFrameRecord(detected(0)))).toEqual(['index', 'timestampMs', 'sourceId', 'detections']);
  });
});
