import { inspect } from 'node:util';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { createUrlRedactor, maskUrlCredentials, redactSecrets } from '../src/secrets.js';
import type { SourceState } from '../src/sources/source-state.js';
import { fromStream } from '../src/sources/stream.js';
import { freePort, makeJpegFrames, startMjpegServer } from './helpers/live-servers.js';
import { createRecordingLogger, createTempMediaDir, waitForNoChildren } from './helpers/media.js';

describe('maskUrlCredentials', () => {
  it.each([
    ['rtsp://admin:s3cr%21t@10.0.0.7:554/live', 'rtsp://***:***@10.0.0.7:554/live'],
    ['rtsp://admin@10.0.0.7/live', 'rtsp://***:***@10.0.0.7/live'],
    ['rtsp://10.0.0.7/live?channel=1&subtype=0', 'rtsp://10.0.0.7/live?channel=1&subtype=0'],
    ['http://cam/video.mjpg?user=admin&password=s3cr%21t&fps=5', 'http://cam/video.mjpg?user=***&password=***&fps=5'],
    ['http://cam/v.m3u8?token=abc#frag', 'http://cam/v.m3u8?token=***'],
    // A raw `@` in the password: the user information ends at the last `@`.
    ['rtsp://admin:p@ss@10.0.0.7/live', 'rtsp://***:***@10.0.0.7/live'],
    ['not a url://admin:pw@host', 'not a url://admin:pw@host'],
    ['rtsp://admin:pw@[::1', 'rtsp://***:***@[::1'],
  ])('masks %s', (url, expected) => {
    expect(maskUrlCredentials(url)).toBe(expected);
  });
});

describe('createUrlRedactor', () => {
  const redactor = createUrlRedactor('rtsp://camuser:s3cr%21t@127.0.0.1:8554/live');

  it('replaces the whole URL by its masked form', () => {
    expect(redactor.redact('rtsp://camuser:s3cr%21t@127.0.0.1:8554/live: Connection refused')).toBe(
      'rtsp://***:***@127.0.0.1:8554/live: Connection refused',
    );
  });

  it.each([
    ['decoded', 'password s3cr!t rejected', 'password *** rejected'],
    ['encoded', 'auth=s3cr%21t', 'auth=***'],
    ['user name', 'user camuser denied', 'user *** denied'],
    ['user name, encoded', 'user %63amuser denied', 'user *** denied'],
  ])('masks the %s spelling', (_name, text, expected) => {
    expect(redactor.redact(text)).toBe(expected);
  });

  it('masks percent-encoding in either hex case', () => {
    const slashRedactor = createUrlRedactor('rtsp://cam:pa%2Fss@10.0.0.7/live');
    expect(slashRedactor.redact('a pa%2fss b pa%2Fss c pa/ss')).toBe('a *** b *** c ***');
  });

  it('masks a space written as + in a query value', () => {
    expect(redactSecrets('GET /v?password=my+pass', ['my pass'])).toBe('GET /v?password=***');
  });

  it('reports whether the URL has credentials', () => {
    expect(redactor.hasSecrets).toBe(true);
    expect(createUrlRedactor('rtsp://127.0.0.1/live').hasSecrets).toBe(false);
  });
});

describe('fromStream credentials', () => {
  afterEach(async () => {
    await waitForNoChildren(runningChildPids);
  });

  /** Everything a user of the source can see, as one text. */
  function visibleText(states: SourceState[], error: unknown, logs: ReturnType<typeof createRecordingLogger>, sourceId: string): string {
    const parts = [sourceId, inspect(error, { depth: 10 }), String(error)];
    for (const state of states) parts.push(inspect(state, { depth: 10 }), state.lastError?.message ?? '');
    for (const entry of logs.entries) parts.push(entry.message, inspect(entry.fields, { depth: 10 }));
    return parts.join('\n');
  }

  it('never shows the password or user of a refused RTSP URL', async () => {
    const port = await freePort();
    const logger = createRecordingLogger();
    const url = `rtsp://camuser:s3cr%21t@127.0.0.1:${port}/live?user=camuser&password=s3cr%21t`;
    const source = fromStream(url, { logger, reconnect: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 40 } });
    const states: SourceState[] = [];
    const watching = source.state$.subscribe((state) => states.push(state));

    const error = await lastValueFrom(source).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    watching.unsubscribe();

    expect(error).toBeDefined();
    expect(states.map((state) => state.status)).toContain('failed');
    expect(source.state.reconnectAttempts).toBe(2);
    // ffmpeg's own report of the refused connection reached the log, masked.
    expect(logger.entries.some((entry) => /Connection refused/i.test(String(entry.fields?.line)))).toBe(true);

    const text = visibleText(states, error, logger, source.sourceId);
    expect(text).not.toContain('s3cr%21t');
    expect(text).not.toContain('s3cr!t');
    expect(text).not.toContain('camuser');
    expect(source.sourceId).toBe(`rtsp://***:***@127.0.0.1:${port}/live?user=***&password=***`);
  });

  it('fails at once when an HTTP server rejects the credentials', async () => {
    const dir = await createTempMediaDir();
    const server = await startMjpegServer({
      frames: await makeJpegFrames(dir, 'f', 'testsrc2=size=32x24:rate=10', 2),
      fps: 10,
      credentials: { user: 'camuser', password: 'right' },
    });
    try {
      const logger = createRecordingLogger();
      const source = fromStream(server.url.replace('http://', 'http://camuser:s3cr%21t@'), { logger, reconnect: { initialDelayMs: 20 } });
      const error = await firstValueFrom(source.pipe(toArray())).then(
        () => undefined,
        (reason: unknown) => reason,
      );

      expect(error).toMatchObject({ code: 'INVALID_INPUT', context: { reason: 'credentials-rejected' } });
      expect(source.state.status).toBe('failed');
      expect(source.state.reconnectAttempts).toBe(0);
      const text = visibleText([source.state], error, logger, source.sourceId);
      expect(text).not.toContain('s3cr%21t');
      expect(text).not.toContain('s3cr!t');
      expect(text).not.toContain('camuser');
    } finally {
      await server.close();
      await dir.remove();
    }
  });
});
