/**
 * A stand-in inference worker for pool tests. It reports a loaded session at once, replies to each
 * job with no detections, crashes (an uncaught exception) on a job whose image is 13 pixels wide,
 * and exits on `close`.
 */
import { parentPort } from 'node:worker_threads';
import type { FromWorkerMessage, ToWorkerMessage } from '../../src/runtime/worker-protocol.js';

/** Image width that makes this worker crash. The test states the same number; importing it from here would run this script. */
const CRASH_WIDTH = 13;

const port = parentPort;
if (!port) throw new Error('crashing-inference-worker must run in a worker thread');

const post = (message: FromWorkerMessage): void => port.postMessage(message);

post({ type: 'loaded', signature: { inputs: [], outputs: [] }, executionProviders: ['cpu'] });
port.on('message', (message: ToWorkerMessage) => {
  if (message.type === 'close') port.close();
  if (message.type !== 'detect') return;
  if (message.width === CRASH_WIDTH) throw new Error(`simulated crash on job ${message.jobId}`);
  post({ type: 'result', jobId: message.jobId, detections: [], batchSize: 1 });
});
