// Worker thread of the benchmark's model-limit measurement: one ONNX Runtime session that times
// `session.run` alone on input tensors prepared by the main thread. Plain JavaScript, so the
// thread needs no TypeScript loader.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { modelPath, sessionOptions } = workerData;
const session = await ort.InferenceSession.create(modelPath, sessionOptions);
const inputName = session.inputNames[0];

parentPort.on('message', async (message) => {
  if (message.type === 'close') {
    await session.release();
    parentPort.close();
    return;
  }
  const tensor = new ort.Tensor('float32', new Float32Array(message.buffer), message.dims);
  const startedAt = performance.now();
  await session.run({ [inputName]: tensor });
  const runMs = performance.now() - startedAt;
  // The input buffer goes back, so the main thread can reuse it for the next frame.
  parentPort.postMessage({ type: 'ran', runMs, buffer: message.buffer }, [message.buffer]);
});
parentPort.postMessage({ type: 'ready' });
