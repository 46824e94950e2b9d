/**
 * Inference worker thread: owns one ONNX Runtime session and runs whole detection jobs, from RGB
 * pixels to named detections. `InferenceSession.run` blocks the thread it runs on
 * (onnxruntime-node 1.30), which is why it runs here and not on the main thread.
 *
 * Protocol (see worker-protocol.ts): on start the worker creates its session and posts `loaded` or
 * `load-failed`. After a `configure` message (or with the configuration in `workerData`) it
 * replies to each `detect` job with `result` or `job-failed`, in arrival order, and then posts one
 * `batch-timing` message per `session.run`. Jobs that are
 * waiting when a run starts go into the same `session.run`, up to the configuration's
 * `maxBatchSize`. On `close` it finishes the running batch, releases the session and exits. The main thread must
 * not call `Worker.terminate()` while a job runs: with onnxruntime-node 1.30 that aborts the whole
 * process ("terminate called after throwing an instance of 'Napi::Error'").
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { DecodeContext, ModelSignature, RawTensor, TensorSignature } from '../../models/adapter.js';
import { concatBatch, splitBatchOutputs } from '../../models/batch.js';
import { prepareInput, placementToSourceBox, type PreparedInput } from '../../models/preprocess.js';
import { findAdapter } from '../../models/registry.js';
import type { RgbImage } from '../types.js';
import { finishDetections } from './postprocess.js';
import { serializeError, type FromWorkerMessage, type ToWorkerMessage, type WorkerConfiguration, type WorkerInit } from './worker-protocol.js';

/** ORT log level 3 = errors only, so native warnings (unused initialisers and the like) stay off stderr. */
const ORT_LOG_SEVERITY_ERROR = 3;

/**
 * Session configuration that stops intra-op threads from spinning while they wait for work. A
 * spinning thread keeps its core busy, which ffmpeg, the main thread and the other workers then
 * wait for. In a detection pipeline on a 2-core machine, a session of 2 intra-op threads ran at
 * 14.6 frames per second without spinning and 9.4 to 13.6 with it, at 110 instead of 146 to 211 ms
 * of CPU per frame. Alone on an idle machine it ran about 7 % slower without spinning.
 */
const NO_SPINNING = { 'session.intra_op.allow_spinning': '0' };

const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');
const init = workerData as WorkerInit;

// Set once the session is created.
let session: ort.InferenceSession | undefined;
// Set by `configure` or from workerData; jobs before it fail.
let configuration: WorkerConfiguration | undefined = init.configuration;
// Jobs received and not started yet, oldest first.
const pending: DetectJob[] = [];
// True from the first pending job until `drain` has run out of jobs; batches run one at a time.
let draining = false;
// Set by `close`; jobs still pending are skipped.
let closing = false;

type DetectJob = Extract<ToWorkerMessage, { type: 'detect' }>;

function post(message: FromWorkerMessage): void {
  port?.postMessage(message);
}

async function createSession(providers: readonly string[]): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(init.modelPath, {
    executionProviders: [...providers],
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    logSeverityLevel: ORT_LOG_SEVERITY_ERROR,
    // A single-thread session has no thread pool, so the setting only matters above one thread.
    ...(init.intraOpThreads > 1 ? { extra: NO_SPINNING } : {}),
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

/**
 * Takes the next jobs to run together: the oldest job, plus as many following ones as
 * `maxBatchSize` allows. With `sameSizeOnly` (for `resize: 'none'`, where the tensor has the
 * image's size) only images of the first one's size can join it.
 */
function takeBatch(maxBatchSize: number, sameSizeOnly: boolean): DetectJob[] {
  const first = pending.shift() as DetectJob;
  const batch = [first];
  while (batch.length < maxBatchSize && pending.length > 0) {
    const next = pending[0] as DetectJob;
    if (sameSizeOnly && (next.width !== first.width || next.height !== first.height)) break;
    batch.push(pending.shift() as DetectJob);
  }
  return batch;
}

/** Runs the jobs in one `session.run` and posts one result per job. */
async function runBatch(jobs: readonly DetectJob[]): Promise<void> {
  if (!session || !configuration) throw new Error('The worker received a job before it was configured');
  const { plan, labels } = configuration;
  const adapter = findAdapter(plan.family);
  if (!adapter) throw new Error(`Unknown model family "${plan.family}" in the worker`);

  const preprocessStart = performance.now();
  const images = jobs.map((job) => ({ width: job.width, height: job.height, data: new Uint8Array(job.pixels) }));
  const inputs = images.map((image) => prepareInput(image, plan.inputWidth, plan.inputHeight, plan.preprocessing));
  const feeds: Record<string, ort.Tensor> = {
    [plan.inputName]: toOrtTensor(concatBatch(inputs.map((input) => ({ type: plan.preprocessing.dtype, data: input.data, dims: input.dims })))),
  };
  const extraInputs = images.map((image) => adapter.extraInputs?.(plan, image) ?? {});
  for (const name of Object.keys(extraInputs[0] ?? {})) {
    feeds[name] = toOrtTensor(concatBatch(extraInputs.map((extra) => extra[name] as RawTensor)));
  }

  const runStart = performance.now();
  const results = await session.run(feeds);
  const runEnd = performance.now();
  const readyJobs = pending.length;
  const outputs: Record<string, RawTensor> = {};
  for (const [name, tensor] of Object.entries(results)) {
    outputs[name] = { type: tensor.type, data: tensor.data as RawTensor['data'], dims: tensor.dims };
  }
  const count = jobs.length;
  const perImage = count === 1 ? [outputs] : (adapter.splitBatch?.(outputs, plan, count) ?? splitBatchOutputs(outputs, count));

  jobs.forEach((job, index) => {
    // One image's decoding error fails that image only; the others of the batch are valid.
    try {
      const image = images[index] as RgbImage;
      const { placement } = inputs[index] as PreparedInput;
      const { settings } = job;
      const context: DecodeContext = {
        sourceWidth: image.width,
        sourceHeight: image.height,
        minScore: settings.minScore,
        classIds: settings.classIds ? new Set(settings.classIds) : undefined,
        toSourceBox: (box) => placementToSourceBox(placement, box),
      };
      const candidates = adapter.decode(perImage[index] as Record<string, RawTensor>, plan, context);
      const detections = finishDetections(candidates, plan.needsNms, settings, labels, image.width, image.height);
      post({ type: 'result', jobId: job.jobId, detections, batchSize: count });
    } catch (error) {
      post({ type: 'job-failed', jobId: job.jobId, error: serializeError(error) });
    }
  });
  post({
    type: 'batch-timing',
    batchSize: count,
    readyJobs,
    preprocessMs: runStart - preprocessStart,
    runMs: runEnd - runStart,
    decodeMs: performance.now() - runEnd,
    runStartMs: performance.timeOrigin + runStart,
    runEndMs: performance.timeOrigin + runEnd,
  });
}

function toOrtTensor(tensor: RawTensor): ort.Tensor {
  return new ort.Tensor(tensor.type as ort.Tensor.Type, tensor.data, tensor.dims);
}

/** Runs batches until no job is pending, then shuts down when `close` arrived meanwhile. */
async function drain(): Promise<void> {
  while (pending.length > 0 && !closing) {
    const batch = takeBatch(configuration?.maxBatchSize ?? 1, configuration?.plan.preprocessing.resize === 'none');
    await runBatch(batch).catch((error: unknown) => {
      for (const job of batch) post({ type: 'job-failed', jobId: job.jobId, error: serializeError(error) });
    });
  }
  draining = false;
  if (closing) await shutdown();
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
    if (!draining) void shutdown();
  } else {
    pending.push(message);
    if (draining) return;
    draining = true;
    // Deferred, so that the jobs whose messages were delivered together join the first batch.
    setImmediate(() => void drain());
  }
});

// No top-level await: when the sources run under tsx, this module is compiled to CommonJS (see worker-pool.ts).
void load();
