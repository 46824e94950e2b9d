/**
 * Inference worker thread: owns one ONNX Runtime session and runs whole detection jobs, from RGB
 * pixels to named detections. `InferenceSession.run` blocks the thread it runs on
 * (onnxruntime-node 1.30), which is why it runs here and not on the main thread.
 *
 * Protocol (see worker-protocol.ts): on start the worker creates its session and posts `loaded` or
 * `load-failed`. After a `configure` message (or with the configuration in `workerData`) it
 * replies to each `detect` job with `result` or `job-failed`, one job at a time in arrival order.
 * On `close` it finishes the running job, releases the session and exits. The main thread must
 * not call `Worker.terminate()` while a job runs: with onnxruntime-node 1.30 that aborts the whole
 * process ("terminate called after throwing an instance of 'Napi::Error'").
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { DecodeContext, ModelSignature, RawTensor, TensorSignature } from '../../models/adapter.js';
import { prepareInput, placementToSourceBox } from '../../models/preprocess.js';
import { findAdapter } from '../../models/registry.js';
import { finishDetections } from './postprocess.js';
import { serializeError, type FromWorkerMessage, type ToWorkerMessage, type WorkerConfiguration, type WorkerInit } from './worker-protocol.js';

/** ORT log level 3 = errors only, so native warnings (unused initialisers and the like) stay off stderr. */
const ORT_LOG_SEVERITY_ERROR = 3;

const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');
const init = workerData as WorkerInit;

// Set once the session is created.
let session: ort.InferenceSession | undefined;
// Set by `configure` or from workerData; jobs before it fail.
let configuration: WorkerConfiguration | undefined = init.configuration;
// Serialises jobs: each one starts after the previous one settled.
let queue: Promise<void> = Promise.resolve();
// Set by `close`; jobs still queued are skipped.
let closing = false;

function post(message: FromWorkerMessage): void {
  port?.postMessage(message);
}

async function createSession(providers: readonly string[]): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(init.modelPath, {
    executionProviders: [...providers],
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    logSeverityLevel: ORT_LOG_SEVERITY_ERROR,
  });
}

/**
 * Creates the session with the requested providers. Names ONNX Runtime does not list as backends
 * are dropped first, because onnxruntime-common would otherwise print its own console warning.
 * When the rest fail and a fallback is allowed, the session is created on CPU alone.
 */
async function load(): Promise<void> {
  const supported = new Set(ort.listSupportedBackends().map((backend) => backend.name));
  const requested = init.executionProviders;
  const listed = requested.filter((name) => supported.has(name));
  const dropped = requested.filter((name) => !supported.has(name));
  const isCpuOnly = listed.length === 1 && listed[0] === 'cpu';

  try {
    if (listed.length === 0) throw new Error(`no listed ONNX Runtime backend among ${dropped.join(', ')}`);
    session = await createSession(listed);
    const fallback =
      dropped.length > 0 ? { requested, reason: `not available in this onnxruntime-node build: ${dropped.join(', ')}` } : undefined;
    post({ type: 'loaded', signature: readSignature(session), executionProviders: listed, fallback });
    return;
  } catch (error) {
    if (!init.allowCpuFallback || isCpuOnly) {
      post({ type: 'load-failed', error: serializeError(error) });
      return;
    }
    try {
      session = await createSession(['cpu']);
    } catch (cpuError) {
      post({ type: 'load-failed', error: serializeError(cpuError) });
      return;
    }
    post({
      type: 'loaded',
      signature: readSignature(session),
      executionProviders: ['cpu'],
      fallback: { requested, reason: (error as Error).message ?? String(error) },
    });
  }
}

function readSignature(loaded: ort.InferenceSession): ModelSignature {
  const describe = (metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorSignature[] =>
    metadata.map((value) =>
      value.isTensor
        ? { name: value.name, type: value.type, shape: [...value.shape] }
        : { name: value.name, type: 'non-tensor', shape: [] },
    );
  return { inputs: describe(loaded.inputMetadata), outputs: describe(loaded.outputMetadata) };
}

async function runJob(message: Extract<ToWorkerMessage, { type: 'detect' }>): Promise<void> {
  if (!session || !configuration) throw new Error('The worker received a job before it was configured');
  const { plan, labels } = configuration;
  const adapter = findAdapter(plan.family);
  if (!adapter) throw new Error(`Unknown model family "${plan.family}" in the worker`);

  const image = { width: message.width, height: message.height, data: new Uint8Array(message.pixels) };
  const input = prepareInput(image, plan.inputWidth, plan.inputHeight, plan.preprocessing);
  const feeds: Record<string, ort.Tensor> = {
    [plan.inputName]: new ort.Tensor(plan.preprocessing.dtype, input.data, input.dims),
  };
  for (const [name, tensor] of Object.entries(adapter.extraInputs?.(plan, image) ?? {})) {
    feeds[name] = new ort.Tensor(tensor.type as ort.Tensor.Type, tensor.data, tensor.dims);
  }

  const results = await session.run(feeds);
  const outputs: Record<string, RawTensor> = {};
  for (const [name, tensor] of Object.entries(results)) {
    outputs[name] = { type: tensor.type, data: tensor.data as RawTensor['data'], dims: tensor.dims };
  }

  const { settings } = message;
  const context: DecodeContext = {
    sourceWidth: image.width,
    sourceHeight: image.height,
    minScore: settings.minScore,
    classIds: settings.classIds ? new Set(settings.classIds) : undefined,
    toSourceBox: (box) => placementToSourceBox(input.placement, box),
  };
  const candidates = adapter.decode(outputs, plan, context);
  const detections = finishDetections(candidates, plan.needsNms, settings, labels, image.width, image.height);
  post({ type: 'result', jobId: message.jobId, detections });
}

/** Releases the session and closes the port, after which the thread exits on its own. */
async function shutdown(): Promise<void> {
  try {
    await session?.release();
  } finally {
    port?.close();
  }
}

port.on('message', (message: ToWorkerMessage) => {
  if (message.type === 'configure') {
    configuration = message.configuration;
  } else if (message.type === 'close') {
    closing = true;
    queue = queue.then(shutdown);
  } else {
    queue = queue.then(async () => {
      if (closing) return;
      await runJob(message).catch((error: unknown) => post({ type: 'job-failed', jobId: message.jobId, error: serializeError(error) }));
    });
  }
});

// No top-level await: when the sources run under tsx, this module is compiled to CommonJS (see worker-pool.ts).
void load();
