import { existsSync } from 'node:fs';
import { lastValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { detect } from '../operators/detect.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import type { SourceStatus } from '../src/sources/source-state.js';
import { fromStream } from '../src/sources/stream.js';
import type { DetectedFrame } from '../src/types.js';
import {
  freePort,
  hasCommand,
  hasGstRtspServer,
  makeSelfSignedCertificate,
  pickRelayPorts,
  startGstRtspServer,
  startRtspPublisher,
  startRtspRelay,
  type RtspRelayPorts,
  type TestProcess,
} from './helpers/live-servers.js';
import { createTempMediaDir, sharedMedia, sharedPath, waitForNoChildren } from './helpers/media.js';

const modelPath = sharedPath('models', 'yolov8n_int8.onnx');
const carVideo = sharedMedia('car-detection.mp4');
const hasRelay = hasCommand('rtsp-server-perl');

/** Processes started by the running test, killed by pid after it. */
const started: TestProcess[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) await child.kill();
  await waitForNoChildren(runningChildPids);
});

/** Polls `condition` every 50 ms; rejects with `what` when it is still false after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts the relay and a publisher of `video` at `rtsp://127.0.0.1:SOURCE_PORT/cam`. */
async function startServer(ports: RtspRelayPorts, video: string): Promise<{ relay: TestProcess; publisher: TestProcess }> {
  const relay = await startRtspRelay(ports);
  started.push(relay);
  const publisher = startRtspPublisher(video, `rtsp://127.0.0.1:${ports.sourcePort}/cam`);
  started.push(publisher);
  return { relay, publisher };
}

describe.skipIf(!hasRelay || carVideo === undefined || !existsSync(modelPath))(
  'fromStream over RTSP/UDP (rtsp-server-perl fed by ffmpeg)',
  () => {
    const reconnect = { initialDelayMs: 200, maxDelayMs: 1000 };
    // ffmpeg probes an RTSP input for about 3 s by default; half a second is enough for this H.264 stream.
    const inputOptions = ['-analyzeduration', '500000'];

    it('detects cars and resumes after the server restarts twice', async () => {
      const ports = await pickRelayPorts();
      let server = await startServer(ports, carVideo as string);
      const detector: Detector = await loadDetector(modelPath, { workers: 1 });
      const source = fromStream(`rtsp://127.0.0.1:${ports.clientPort}/cam`, {
        transport: 'udp',
        stallTimeoutMs: 3000,
        connectTimeoutMs: 5000,
        reconnect,
        inputOptions,
      });
      const results: DetectedFrame[] = [];
      let failure: unknown;
      const subscription = source.pipe(detect(detector, { classes: ['car'] })).subscribe({
        next: (frame) => results.push(frame),
        error: (error: unknown) => (failure = error),
      });
      const framesWithCars = (from: number): number => results.slice(from).filter((frame) => frame.detections.length > 0).length;

      try {
        // Wide margin: under load the detector's first runs and the relay's start take a while.
        await waitFor(() => framesWithCars(0) >= 3, 45_000, 'cars on the first connection');

        for (let restart = 1; restart <= 2; restart += 1) {
          await server.relay.kill();
          await server.publisher.kill();
          await waitFor(() => source.state.status !== 'live', 10_000, 'the source to notice the lost server');
          const before = results.length;

          server = await startServer(ports, carVideo as string);
          // Liveness: back within the longest backoff delay plus 10 s.
          await waitFor(
            () => source.state.reconnects === restart && framesWithCars(before) >= 2,
            reconnect.maxDelayMs + 10_000,
            `detections after restart ${restart}`,
          );
        }
      } finally {
        subscription.unsubscribe();
        await detector.dispose();
      }

      expect(failure).toBeUndefined();
      expect(source.state.reconnects).toBe(2);
      expect(source.state.status).toBe('ended');
      const cars = results.flatMap((frame) => frame.detections);
      expect(cars.every((detection) => detection.name === 'car')).toBe(true);
      expect(results.map((frame) => frame.index)).toEqual(results.map((_, index) => index));
    }, 120_000);

    it('reports stalled when the publisher freezes, then reconnects', async () => {
      const ports = await pickRelayPorts();
      const server = await startServer(ports, carVideo as string);
      const stallTimeoutMs = 2000;
      const source = fromStream(`rtsp://127.0.0.1:${ports.clientPort}/cam`, {
        transport: 'udp',
        stallTimeoutMs,
        connectTimeoutMs: 5000,
        reconnect,
        inputOptions,
      });
      const statuses: SourceStatus[] = [];
      const watching = source.state$.subscribe((state) => statuses.push(state.status));
      let frames = 0;
      const subscription = source.subscribe(() => (frames += 1));

      try {
        await waitFor(() => frames >= 5, 20_000, 'frames before the freeze');
        server.publisher.freeze();
        await waitFor(() => statuses.includes('stalled'), stallTimeoutMs + 5000, 'the stalled state');
        const framesWhenStalled = frames;

        server.publisher.resume();
        await waitFor(() => source.state.reconnects === 1 && frames > framesWhenStalled, reconnect.maxDelayMs + 10_000, 'frames after the resume');
      } finally {
        subscription.unsubscribe();
        watching.unsubscribe();
      }

      const stalledAt = statuses.indexOf('stalled');
      // The first attempt may find no publisher yet (404) and go through `reconnecting` first.
      expect(statuses.slice(0, 2)).toEqual(['ended', 'connecting']);
      expect(statuses.slice(0, stalledAt)).toContain('live');
      expect(statuses[stalledAt + 1]).toBe('reconnecting');
      expect(statuses.slice(stalledAt)).toContain('live');
      expect(source.state.lastError?.context).toMatchObject({ reason: 'stalled', stallTimeoutMs });
    });
  },
);

describe.skipIf(!hasGstRtspServer())('fromStream over RTSP/TCP (GStreamer RTSP server)', () => {
  it('reads frames over an interleaved TCP connection', async () => {
    const port = await freePort();
    started.push(await startGstRtspServer(port));

    const frames = await lastValueFrom(fromStream(`rtsp://127.0.0.1:${port}/test`, { transport: 'tcp' }).pipe(take(8), toArray()));

    expect(frames.map((frame) => `${frame.width}x${frame.height}`)).toEqual(Array(8).fill('160x120'));
    expect(frames.every((frame) => frame.data.length === 160 * 120 * 3)).toBe(true);
  });

  it.skipIf(!hasCommand('openssl'))('reads frames over rtsps:// (TLS)', async () => {
    const dir = await createTempMediaDir('framewise-rtsps-');
    try {
      const tls = await makeSelfSignedCertificate(dir);
      const port = await freePort();
      started.push(await startGstRtspServer(port, tls));

      // ffmpeg skips TLS certificate checks by default (tls_verify=0), so the self-signed one is accepted.
      const frames = await lastValueFrom(fromStream(`rtsps://127.0.0.1:${port}/test`).pipe(take(8), toArray()));

      expect(frames.map((frame) => `${frame.width}x${frame.height}`)).toEqual(Array(8).fill('160x120'));
      expect(frames.every((frame) => frame.live)).toBe(true);
    } finally {
      await dir.remove();
    }
  });
});
