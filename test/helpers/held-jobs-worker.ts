/**
 * A stand-in inference worker that keeps every job until the test releases it, like a device that
 * finishes a batch only on request. Besides the pool's protocol it takes two control messages:
 * `{ type: 'count' }` replies `{ type: 'held', jobIds }` with the ids of the jobs it holds, oldest
 * first; `{ type: 'finish', count }` answers the oldest `count` jobs with no detections, as one
 * batch, and then replies `{ type: 'held', jobIds }`.
 */
import { parentPort } from 'node:worker_threads';
import type { FromWorkerMessage, ToWorkerMessage } from '../../src/runtime/worker-protocol.js';

type ControlMessage = { readonly type: 'count' } | { readonly type: 'finish'; readonly count: number };

const port = parentPort;
if (!port) throw new Error('held-jobs-worker must run in a worker thread');

// Ids of the jobs received and not replied to, oldest first.
const held: number[] = [];
const post = (message: FromWorkerMessage | { type: 'held'; jobIds: number[] }): void => port.postMessage(message);

post({ type: 'loaded', signature: { inputs: [], outputs: [] }, executionProviders: ['cpu'] });
port.on('message', (message: ToWorkerMessage | ControlMessage) => {
  switch (message.type) {
    case 'close':
      port.close();
      return;
    case 'detect':
      held.push(message.jobId);
      return;
    case 'finish': {
      const batch = held.splice(0, message.count);
      for (const jobId of batch) post({ type: 'result', jobId, detections: [], batchSize: batch.length });
      post({ type: 'held', jobIds: [...held] });
      return;
    }
    case 'count':
      post({ type: 'held', jobIds: [...held] });
      return;
    default:
      return;
  }
});
