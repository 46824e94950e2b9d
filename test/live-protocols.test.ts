/**
 * fromStream over RTMP, RTMPS, HLS, MPEG-TS over HTTP and MJPEG over HTTPS, against servers the
 * tests start on 127.0.0.1. ffmpeg itself listens as the RTMP server and writes the HLS playlist
 * and the MPEG-TS stream, which small HTTP servers in the tests serve.
 */
import { readFileSync } from 'node:fs';
import { lastValueFrom, Subscription, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { runningChildPids } from '../src/ffmpeg/process.js';
import type { SourceStatus } from '../src/sources/source-state.js';
import { fromStream } from '../src/sources/stream.js';
import type { Frame } from '../src/types.js';
import {
  delay,
  freePort,
  hasCommand,
  makeJpegFrames,
  makeSelfSignedCertificate,
  startFolderServer,
  startHlsPublisher,
  startMjpegServer,
  startMpegTsServer,
  startRtmpServer,
  startTlsForwarder,
  waitForListening,
  type FolderServer,
  type MjpegServer,
  type MpegTsServer,
  type TestProcess,
  type TlsForwarder,
} from './helpers/live-servers.js';
import { createTempMediaDir, waitForNoChildren, type TempMediaDir } from './helpers/media.js';

const started: TestProcess[] = [];
const servers: (FolderServer | MjpegServer | MpegTsServer | TlsForwarder)[] = [];
const dirs: TempMediaDir[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) await child.kill();
  for (const server of servers.splice(0)) await server.close();
  await waitForNoChildren(runningChildPids);
  for (const dir of dirs.splice(0)) await dir.remove();
});

/** Polls `condition` every 50 ms; rejects with `what` when it is still false after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

/** Checks what every live frame must satisfy: its size, the live flag and rising timestamps. */
function expectLiveFrames(frames: readonly Frame[], width: number, height: number): void {
  expect(frames.every((frame) => frame.live && frame.width === width && frame.height === height)).toBe(true);
  expect(frames.every((frame) => frame.data.length === width * height * 3)).toBe(true);
  for (let i = 1; i < frames.length; i += 1) {
    expect(frames[i]!.index).toBe(frames[i - 1]!.index + 1);
    expect(frames[i]!.timestampMs).toBeGreaterThan(frames[i - 1]!.timestampMs);
  }
}

describe('fromStream over RTMP (ffmpeg listening as the server)', () => {
  it('reconnects after the server drops it', async () => {
    const port = await freePort();
    const url = `rtmp://127.0.0.1:${port}/live/cam`;
    // The first server sends 3 s of pattern and exits, which closes the connection cleanly (code 0).
    started.push(startRtmpServer(port, 3));
    // A probing connection would use up the server's only connection, so read the socket table.
    await waitForListening(port);

    const source = fromStream(url, { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, stallTimeoutMs: 5000 });
    const statuses: SourceStatus[] = [];
    const frames: Frame[] = [];
    const subscription = new Subscription();
    subscription.add(source.state$.subscribe((state) => statuses.push(state.status)));
    let failure: unknown;
    subscription.add(source.subscribe({ next: (frame) => frames.push(frame), error: (error: unknown) => (failure = error) }));
    try {
      await waitFor(() => frames.length >= 10, 20_000, 'frames from the first server');
      await waitFor(() => source.state.status === 'reconnecting' || source.state.status === 'connecting', 15_000, 'the disconnect');
      const beforeRestart = frames.length;

      started.push(startRtmpServer(port, 30));
      await waitForListening(port);
      await waitFor(() => source.state.reconnects >= 1 && frames.length >= beforeRestart + 10, 25_000, 'frames from the second server');
      expect(failure).toBeUndefined();
      expect(source.state.status).toBe('live');
      expect(source.state.reconnects).toBe(1);
      // state$ replays the state before the subscription, which is `ended` for a source not yet started.
      expect(statuses.slice(0, 3)).toEqual(['ended', 'connecting', 'live']);
      expect(statuses).toContain('reconnecting');
      expectLiveFrames(frames, 160, 120);
      expect(source.state.framesEmitted).toBe(frames.length);
    } finally {
      subscription.unsubscribe();
    }
    await waitForNoChildren(runningChildPids);
    expect(source.state.status).toBe('ended');
  }, 90_000);
});

describe.skipIf(!hasCommand('openssl'))('fromStream over RTMPS (needs the openssl command)', () => {
  it('reads RTMP inside TLS', async () => {
    const dir = await createTempMediaDir('framewise-live-rtmps-');
    dirs.push(dir);
    const tls = await makeSelfSignedCertificate(dir);
    const port = await freePort();
    started.push(startRtmpServer(port, 30));
    await waitForListening(port);
    // ffmpeg cannot listen on rtmps://, so a TLS endpoint in the test forwards to the RTMP server.
    const forwarder = await startTlsForwarder(port, tls);
    servers.push(forwarder);

    const frames = await lastValueFrom(fromStream(`rtmps://127.0.0.1:${forwarder.port}/live/cam`).pipe(take(10), toArray()));

    expectLiveFrames(frames, 160, 120);
    expect(frames[0]!.sourceId).toBe(`rtmps://127.0.0.1:${forwarder.port}/live/cam`);
    await waitForNoChildren(runningChildPids);
  }, 60_000);
});

describe('fromStream over HLS (a live playlist served over HTTP)', () => {
  it('follows a live playlist', async () => {
    const dir = await createTempMediaDir('framewise-live-hls-');
    dirs.push(dir);
    const publisher = startHlsPublisher(dir.path);
    started.push(publisher);
    const server = await startFolderServer(dir.path);
    servers.push(server);
    // The playlist exists once the first segment is complete.
    await waitFor(() => existsPlaylist(dir), 20_000, `the first HLS segment (ffmpeg said: ${publisher.output()})`);

    // 35 frames at 10 fps span more than the three segments listed when the player starts, so the
    // player must reload the playlist and fetch segments written after it connected.
    const frames = await lastValueFrom(fromStream(`${server.baseUrl}/live.m3u8`, { stallTimeoutMs: 8000 }).pipe(take(35), toArray()));

    expectLiveFrames(frames, 96, 64);
    expect(frames[0]!.timestampMs).toBe(0);
    expect(frames[0]!.sourceId).toBe(`${server.baseUrl}/live.m3u8`);
    const playlistLoads = server.requests.filter((name) => name === 'live.m3u8').length;
    const segments = new Set(server.requests.filter((name) => name.endsWith('.ts')));
    expect(playlistLoads).toBeGreaterThanOrEqual(2);
    expect(segments.size).toBeGreaterThanOrEqual(4);
    await waitForNoChildren(runningChildPids);
  }, 90_000);
});

describe('fromStream over MPEG-TS streamed over HTTP', () => {
  it('reads a stream without a length', async () => {
    const server = await startMpegTsServer();
    servers.push(server);

    const frames = await lastValueFrom(fromStream(server.url).pipe(take(20), toArray()));

    expectLiveFrames(frames, 128, 96);
    expect(frames[0]!.timestampMs).toBe(0);
    expect(server.connections).toBe(1);
    await waitForNoChildren(runningChildPids);
  }, 60_000);
});

describe.skipIf(!hasCommand('openssl'))('fromStream over HTTPS (needs the openssl command)', () => {
  it('reads MJPEG over TLS with credentials', async () => {
    const dir = await createTempMediaDir('framewise-live-https-');
    dirs.push(dir);
    const tls = await makeSelfSignedCertificate(dir);
    const jpegs = await makeJpegFrames(dir, 'pattern', 'testsrc2=size=64x48:rate=10', 5);
    const server = await startMjpegServer({ frames: jpegs, fps: 10, tls, credentials: { user: 'viewer', password: 'p@ss w0rd' } });
    servers.push(server);
    const url = server.url.replace('https://', 'https://viewer:p%40ss%20w0rd@');

    // ffmpeg skips TLS certificate checks by default (tls_verify=0), so the self-signed one is accepted.
    const source = fromStream(url);
    const frames = await lastValueFrom(source.pipe(take(8), toArray()));

    expect(server.url.startsWith('https://')).toBe(true);
    expectLiveFrames(frames, 64, 48);
    expect(frames[0]!.sourceId).toBe(server.url.replace('https://', 'https://***:***@'));
    expect(server.connections).toBe(1);
    await waitForNoChildren(runningChildPids);
  }, 60_000);
});

function existsPlaylist(dir: TempMediaDir): boolean {
  try {
    return readFileSync(dir.file('live.m3u8'), 'utf8').includes('.ts');
  } catch {
    return false;
  }
}
