import { describe, expect, it } from 'vitest';
import { chooseWorkerLayout, MAX_DEFAULT_WORKERS } from '../src/runtime/worker-layout.js';

describe('chooseWorkerLayout', () => {
  it.each([
    // cores, providers, requested, expected workers x intra-op threads
    [1, ['cpu'], {}, [1, 1]],
    [2, ['cpu'], {}, [2, 1]],
    [3, ['cpu'], {}, [3, 1]],
    [4, ['cpu'], {}, [4, 1]],
    // Above four cores the workers stay at four and the rest become intra-op threads.
    [6, ['cpu'], {}, [4, 1]],
    [8, ['cpu'], {}, [4, 2]],
    [16, ['cpu'], {}, [4, 4]],
    // Workers set alone: one thread each, as documented for the option.
    [16, ['cpu'], { workers: 2 }, [2, 1]],
    [16, ['cpu'], { intraOpThreads: 3 }, [4, 3]],
    [2, ['cpu'], { workers: 1, intraOpThreads: 2 }, [1, 2]],
    // An accelerator runs the model; the workers only prepare and decode.
    [16, ['cuda', 'cpu'], {}, [4, 1]],
    [2, ['cuda', 'cpu'], {}, [2, 1]],
    // A fractional or zero core count (a container limit) still gives one worker.
    [0, ['cpu'], {}, [1, 1]],
    [2.5, ['cpu'], {}, [2, 1]],
  ] as const)('%d cores, %j, %j', (cores, providers, requested, [workers, intraOpThreads]) => {
    expect(chooseWorkerLayout(cores, providers, requested)).toEqual({ workers, intraOpThreads });
  });

  it('caps default workers', () => {
    expect(chooseWorkerLayout(64, ['cpu']).workers).toBe(MAX_DEFAULT_WORKERS);
  });
});
