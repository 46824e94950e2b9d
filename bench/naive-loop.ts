/**
 * The naive sequential baseline: one frame at a time, every step awaited before the next starts,
 * all on the main thread, as ImageAI's video loop does (read a frame, detect, draw, write, repeat).
 * It uses one ONNX Runtime session with the default options, the same session as the model limit.
 *
 * ffmpeg decodes and encodes in child processes. Their pipes let them work a little ahead of the
 * loop (the decoder fills the pipe buffer, the encoder compresses the last frame while the loop
 * runs the model on the next), so this baseline is, if anything, faster than a truly sequential one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import * as ort from 'onnxruntime-node';
import type { DecodeContext, ModelSignature, RawTensor, TensorSignature } from '../models/adapter.js';
import { readOnnxMetadata } from '../models/onnx-metadata.js';
import { placementToSourceBox, prepareInput } from '../models/preprocess.js';
import { findAdapter, recogniseModel } from '../models/registry.js';
import { probeVideo } from '../src/ffmpeg/probe.js';
import { RawFrameSplitter } from '../src/sources/frame-reader.js';
import { colorForClass, textColorFor } from '../src/render/palette.js';
import { bitmapRenderer } from '../src/render/renderer.js';
import { DEFAULT_DETECTION_SETTINGS } from '../src/runtime/types.js';
import { finishDetections } from '../src/runtime/postprocess.js';

/** Milliseconds the loop spent in each step, summed over all frames. */
export interface NaiveStepTimes {
  /** Waiting for the next decoded frame from ffmpeg's stdout. */
  readonly readMs: number;
  /** Letterbox and tensor conversion. */
  readonly preprocessMs: number;
  /** `session.run`. */
  readonly inferenceMs: number;
  /** Output decoding and NMS. */
  readonly postprocessMs: number;
  readonly drawMs: number;
  /** Handing the frame to the encoder's stdin until the write completed. */
  readonly writeMs: number;
}

/** Result of {@link runNaiveLoop}. */
export interface NaiveResult {
  readonly frames: number;
  readonly seconds: number;
  readonly fps: number;
  readonly steps: NaiveStepTimes;
}

/** Runs the naive loop over a whole video and writes the annotated result to `outputPath`. */
export async function runNaiveLoop(modelPath: string, videoPath: string, outputPath: string): Promise<NaiveResult> {
  const session = await ort.InferenceSession.create(modelPath);
  const plan = recognise(session, await readOnnxMetadata(modelPath));
  const adapter = findAdapter(plan.family);
  if (!adapter) throw new Error(`No adapter for ${plan.family}`);
  const info = await probeVideo(videoPath);
  const { width, height } = info;
  const frameBytes = width * height * 3;
  const labels = plan.modelLabels ?? plan.defaultLabels;

  const decoder = spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', videoPath, '-an', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rate = info.fps ?? 25;
  const encoder = spawn(
    'ffmpeg',
    ['-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(rate), '-i', 'pipe:0',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', outputPath],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const reader = new FrameReader(decoder.stdout as Readable, frameBytes);
  const steps = { readMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, drawMs: 0, writeMs: 0 };
  let frames = 0;
  const startedAt = performance.now();

  for (;;) {
    let mark = performance.now();
    const lap = (step: keyof typeof steps): void => {
      const now = performance.now();
      steps[step] += now - mark;
      mark = now;
    };

    const pixels = await reader.next();
    lap('readMs');
    if (!pixels) break;
    const image = { width, height, data: pixels };

    const input = prepareInput(image, plan.inputWidth, plan.inputHeight, plan.preprocessing);
    const tensor = new ort.Tensor('float32', input.data, input.dims);
    lap('preprocessMs');

    const results = await session.run({ [plan.inputName]: tensor });
    lap('inferenceMs');

    const outputs: Record<string, RawTensor> = {};
    for (const [name, value] of Object.entries(results)) outputs[name] = { type: value.type, data: value.data as RawTensor['data'], dims: value.dims };
    const context: DecodeContext = {
      sourceWidth: width,
      sourceHeight: height,
      minScore: DEFAULT_DETECTION_SETTINGS.minScore,
      classIds: undefined,
      toSourceBox: (box) => placementToSourceBox(input.placement, box),
    };
    const detections = finishDetections(adapter.decode(outputs, plan, context), plan.needsNms, DEFAULT_DETECTION_SETTINGS, labels, width, height);
    lap('postprocessMs');

    const annotations = detections.map((detection) => {
      const color = colorForClass(detection.classId);
      return { box: detection.box, color, label: `${detection.name} ${Math.round(detection.score * 100)}%`, textColor: textColorFor(color) };
    });
    bitmapRenderer.draw(image, annotations, { lineWidth: 2, fontScale: 1, showBox: true });
    lap('drawMs');

    await write(encoder.stdin as Writable, pixels);
    lap('writeMs');
    frames += 1;
  }

  (encoder.stdin as Writable).end();
  await Promise.all([exited(decoder), exited(encoder)]);
  await session.release();
  const seconds = (performance.now() - startedAt) / 1000;
  return { frames, seconds, fps: frames / seconds, steps };
}

function recognise(session: ort.InferenceSession, metadata: Awaited<ReturnType<typeof readOnnxMetadata>>) {
  const describe = (values: readonly ort.InferenceSession.ValueMetadata[]): TensorSignature[] =>
    values.map((value) => (value.isTensor ? { name: value.name, type: value.type, shape: [...value.shape] } : { name: value.name, type: 'non-tensor', shape: [] }));
  const signature: ModelSignature = { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
  const recognition = recogniseModel(signature, metadata);
  if (!recognition.plan) throw new Error('The model matches no known family');
  return recognition.plan;
}

function write(stream: Writable, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (error) => (error ? reject(error) : resolve())));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('close', () => resolve()));
}

/**
 * Reads fixed-size frames from a stream one at a time: the stream is paused while a complete frame
 * waits to be taken, so ffmpeg decodes at most about one frame ahead of the loop.
 */
class FrameReader {
  private readonly stream: Readable;
  private readonly splitter: RawFrameSplitter;
  /** Complete frames not taken yet. */
  private readonly frames: Buffer[] = [];
  private ended = false;
  /** Resolves the pending `next()` call when a frame arrives or the stream ends. */
  private wake: (() => void) | undefined;

  constructor(stream: Readable, frameBytes: number) {
    this.stream = stream;
    this.splitter = new RawFrameSplitter(frameBytes);
    stream.on('data', (chunk: Buffer) => {
      this.frames.push(...this.splitter.push(chunk));
      if (this.frames.length > 0) stream.pause();
      this.wake?.();
    });
    stream.once('end', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  /** Resolves with the next frame's pixels, or undefined at the end of the stream. */
  async next(): Promise<Uint8Array | undefined> {
    while (this.frames.length === 0 && !this.ended) {
      this.stream.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    return this.frames.shift();
  }
}
