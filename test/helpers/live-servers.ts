/**
 * Servers for the live-source tests, all on 127.0.0.1 and all started and stopped by the tests:
 * an RTSP relay (Debian's rtsp-server-perl, UDP only), a GStreamer RTSP server (TCP), an ffmpeg
 * publisher, and an MJPEG-over-HTTP server written here.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import { createServer as createNetServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TempMediaDir } from './media.js';

/** True when `command` can be run (found on the PATH). */
export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$1"`, 'sh', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when Debian's system Python has the GStreamer RTSP server bindings. */
export function hasGstRtspServer(): boolean {
  try {
    execFileSync(
      '/usr/bin/python3',
      ['-c', "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); from gi.repository import Gst, GstRtspServer; Gst.init(None); assert Gst.ElementFactory.find('jpegenc') and Gst.ElementFactory.find('rtpjpegpay')"],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return true;
  } catch {
    return false;
  }
}

/** Starts `server` on a free port of 127.0.0.1 and returns the port. */
function listenOnLoopback(server: HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to `port` on 127.0.0.1 succeeds; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket: Socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await delay(50);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A process a test started, stopped by its pid. */
export interface TestProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Output of the process on stderr and stdout, for failure messages. */
  output(): string;
  /** Sends SIGKILL (after SIGCONT, in case it is stopped) and resolves once it exited. */
  kill(): Promise<void>;
  /** Freezes the process (SIGSTOP). */
  freeze(): void;
  /** Resumes a frozen process (SIGCONT). */
  resume(): void;
}

function startProcess(command: string, args: readonly string[]): TestProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`Cannot start ${command}`);
  const pid = child.pid;
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return {
    pid,
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(pid, 'SIGCONT');
          process.kill(pid, 'SIGKILL');
        } catch (error) {
          // ESRCH: it exited between the check and the signal, which is the outcome wanted.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
      await exited;
    },
    freeze: () => process.kill(pid, 'SIGSTOP'),
    resume: () => process.kill(pid, 'SIGCONT'),
  };
}

/** Ports of an rtsp-server-perl relay. */
export interface RtspRelayPorts {
  /** Where players connect: `rtsp://127.0.0.1:clientPort/NAME`. */
  readonly clientPort: number;
  /** Where publishers announce: `rtsp://127.0.0.1:sourcePort/NAME`. */
  readonly sourcePort: number;
  /** First UDP port of the relay's RTP range. */
  readonly rtpStartPort: number;
}

/** Picks free ports for an RTSP relay; the RTP range is random, so that test files running at once do not collide. */
export async function pickRelayPorts(): Promise<RtspRelayPorts> {
  const clientPort = await freePort();
  const sourcePort = await freePort();
  const rtpStartPort = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  return { clientPort, sourcePort, rtpStartPort };
}

/** Starts rtsp-server-perl on 127.0.0.1 and resolves once both of its ports accept connections. */
export async function startRtspRelay(ports: RtspRelayPorts): Promise<TestProcess> {
  const relay = startProcess('rtsp-server-perl', [
    '--clientport', String(ports.clientPort),
    '--serverport', String(ports.sourcePort),
    '--client_listen_address', '127.0.0.1',
    '--source_listen_address', '127.0.0.1',
    '--rtp_start_port', String(ports.rtpStartPort),
    '--loglevel', '1',
  ]);
  try {
    await waitForPort(ports.clientPort);
    await waitForPort(ports.sourcePort);
  } catch (error) {
    await relay.kill();
    throw new Error(`rtsp-server-perl did not start: ${String(error)}\n${relay.output()}`);
  }
  return relay;
}

/**
 * Publishes `video` in a loop, at its own frame rate, to an RTSP server. It is re-encoded with a
 * key frame every `keyFrameInterval` frames, so that a player that connects or reconnects gets a
 * picture within about a second.
 */
export function startRtspPublisher(video: string, url: string, keyFrameInterval = 12): TestProcess {
  return startProcess('ffmpeg', [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-re', '-stream_loop', '-1', '-i', video,
    '-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-g', String(keyFrameInterval), '-pix_fmt', 'yuv420p',
    '-f', 'rtsp', url,
  ]);
}

/**
 * Python program of a GStreamer RTSP server that serves a 10 fps JPEG test pattern at
 * `rtsp://127.0.0.1:PORT/test`, over TCP or UDP as the player requests. Given a certificate and
 * a key file after the port, it speaks RTSP over TLS (`rtsps://`) and lets anyone play.
 */
const GST_RTSP_SERVER = `
import sys
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer, GLib, Gio
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service(sys.argv[1])
tls = len(sys.argv) > 3
if tls:
    auth = GstRtspServer.RTSPAuth()
    auth.set_tls_certificate(Gio.TlsCertificate.new_from_files(sys.argv[2], sys.argv[3]))
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, 'anonymous')
    auth.set_default_token(token)
    server.set_auth(auth)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch('( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=160,height=120,framerate=10/1 ! jpegenc ! rtpjpegpay name=pay0 pt=26 )')
factory.set_shared(True)
if tls:
    role = 'anonymous, media.factory.access=(boolean)true, media.factory.construct=(boolean)true'
    factory.add_role_from_structure(Gst.Structure.from_string(role)[0])
server.get_mount_points().add_factory('/test', factory)
server.attach(None)
print('ready', flush=True)
GLib.MainLoop().run()
`;

/**
 * Starts the GStreamer RTSP server on `port` and resolves once it accepts connections. With `tls`
 * it serves `rtsps://` instead.
 */
export async function startGstRtspServer(port: number, tls?: TlsFiles): Promise<TestProcess> {
  const tlsArgs = tls ? [tls.certPath, tls.keyPath] : [];
  const server = startProcess('/usr/bin/python3', ['-c', GST_RTSP_SERVER, String(port), ...tlsArgs]);
  try {
    await waitForPort(port);
  } catch (error) {
    await server.kill();
    throw new Error(`The GStreamer RTSP server did not start: ${String(error)}\n${server.output()}`);
  }
  return server;
}

/**
 * Generates `count` JPEG frames from an ffmpeg lavfi source and returns their bytes. `lavfi` is a
 * source such as `testsrc2=size=64x48:rate=10` (a moving pattern) or `color=c=red:size=64x48`.
 */
export async function makeJpegFrames(dir: TempMediaDir, name: string, lavfi: string, count: number): Promise<Buffer[]> {
  await dir.ffmpeg('-f', 'lavfi', '-i', lavfi, '-frames:v', String(count), '-q:v', '5', dir.file(`${name}-%03d.jpg`));
  const files = (await readdir(dir.path)).filter((file) => file.startsWith(`${name}-`)).sort();
  return Promise.all(files.map((file) => readFile(join(dir.path, file))));
}

/** A PEM private key and a self-signed certificate for 127.0.0.1, as bytes and as files. */
export interface TlsFiles {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly keyPath: string;
  readonly certPath: string;
}

/** Makes a key and a self-signed certificate for 127.0.0.1 in `dir` with the openssl command. */
export async function makeSelfSignedCertificate(dir: TempMediaDir): Promise<TlsFiles> {
  const key = dir.file('tls-key.pem');
  const cert = dir.file('tls-cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore', timeout: 30_000 });
  return { key: await readFile(key), cert: await readFile(cert), keyPath: key, certPath: cert };
}

/** An MJPEG-over-HTTP server (`multipart/x-mixed-replace`) on 127.0.0.1. */
export interface MjpegServer {
  readonly url: string;
  readonly port: number;
  /** Frames written to all clients so far. */
  readonly framesSent: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Ends every open response, as a server that drops its clients. */
  dropClients(): void;
  close(): Promise<void>;
}

/** Options of {@link startMjpegServer}. */
export interface MjpegServerOptions {
  /** JPEG frames to send, in a loop. */
  readonly frames: readonly Buffer[];
  /** Frames per second, per client. */
  readonly fps: number;
  /** Frames after which each response ends, as a server closing the connection. Default: never. */
  readonly framesPerConnection?: number;
  /** Basic-auth user and password the server requires, if any. */
  readonly credentials?: { readonly user: string; readonly password: string };
  /** PEM key and certificate: serve over HTTPS instead of HTTP. */
  readonly tls?: TlsFiles;
}

/**
 * Starts an MJPEG server. Each part has a `Content-Type: image/jpeg` and a `Content-Length`, but
 * nothing states the frame rate, so ffprobe cannot tell it.
 */
export async function startMjpegServer(options: MjpegServerOptions): Promise<MjpegServer> {
  const boundary = 'framewiseboundary';
  const responses = new Set<ServerResponse>();
  let framesSent = 0;
  let connections = 0;

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (options.credentials) {
      const expected = 'Basic ' + Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64');
      if (request.headers.authorization !== expected) {
        response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="camera"' }).end();
        return;
      }
    }
    connections += 1;
    responses.add(response);
    response.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace;boundary=${boundary}`, 'Cache-Control': 'no-cache' });
    let sent = 0;
    const timer = setInterval(() => {
      const frame = options.frames[sent % options.frames.length] as Buffer;
      response.write(`--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.length}\r\n\r\n`);
      response.write(frame);
      response.write('\r\n');
      sent += 1;
      framesSent += 1;
      if (options.framesPerConnection !== undefined && sent >= options.framesPerConnection) response.end();
    }, 1000 / options.fps);
    const stop = (): void => {
      clearInterval(timer);
      responses.delete(response);
    };
    response.once('close', stop);
    response.once('finish', stop);
  };

  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handle) : createHttpServer(handle);
  const port = await listenOnLoopback(server);
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/stream.mjpg`,
    port,
    get framesSent() {
      return framesSent;
    },
    get connections() {
      return connections;
    },
    dropClients() {
      for (const response of responses) response.destroy();
    },
    close: () =>
      new Promise<void>((done) => {
        for (const response of responses) response.destroy();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * Starts ffmpeg as an RTMP server on `port` that waits for one player at
 * `rtmp://127.0.0.1:PORT/live/cam` and sends it `seconds` of a 10 fps 160x120 test pattern, with a
 * key frame every second. ffmpeg serves a single connection and exits when the player leaves or
 * the pattern ends, like a camera that drops its client.
 */
export function startRtmpServer(port: number, seconds: number): TestProcess {
  return startProcess('ffmpeg', [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=10:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10', '-pix_fmt', 'yuv420p',
    '-f', 'flv', '-listen', '1', `rtmp://127.0.0.1:${port}/live/cam`,
  ]);
}

/**
 * Starts ffmpeg writing a live HLS stream into `dir`: `live.m3u8` with one-second MPEG-TS
 * segments of a 10 fps 96x64 test pattern, the playlist holding the last four segments.
 */
export function startHlsPublisher(dir: string): TestProcess {
  return startProcess('ffmpeg', [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=10',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p',
    '-f', 'hls', '-hls_time', '1', '-hls_list_size', '4', '-hls_flags', 'delete_segments+temp_file',
    '-hls_segment_filename', join(dir, 'segment-%05d.ts'), join(dir, 'live.m3u8'),
  ]);
}

/** A static HTTP server on 127.0.0.1 that serves the files of one folder as they are now on disk. */
export interface FolderServer {
  /** `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Starts a {@link FolderServer} for `dir`; names with a slash or a leading dot get 404. */
export async function startFolderServer(dir: string): Promise<FolderServer> {
  const requests: string[] = [];
  const types: Record<string, string> = { '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t' };
  const server = createHttpServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname.slice(1));
    requests.push(name);
    if (name.includes('/') || name.startsWith('.') || name.length === 0) {
      response.writeHead(404).end();
      return;
    }
    readFile(join(dir, name)).then(
      (bytes) => {
        const type = types[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
        response.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length, 'Cache-Control': 'no-cache' }).end(bytes);
      },
      () => response.writeHead(404).end(),
    );
  });
  const port = await listenOnLoopback(server);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * Resolves once some process listens on TCP `port` of 127.0.0.1, read from `/proc/net/tcp`
 * without connecting, for servers that accept a single connection. Linux only.
 */
export async function waitForListening(port: number, timeoutMs = 10_000): Promise<void> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = await readFile('/proc/net/tcp', 'utf8');
    // Columns: sl, local_address, rem_address, st (0A is LISTEN), ...
    const listening = table.split('\n').some((line) => {
      const [, address, , state] = line.trim().split(/\s+/);
      return address === local && state === '0A';
    });
    if (listening) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await delay(50);
  }
}

/** An HTTP server on 127.0.0.1 that streams live MPEG-TS, one ffmpeg encoder per client. */
export interface MpegTsServer {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Ends every response and stops the encoders. */
  close(): Promise<void>;
}

/**
 * Starts a {@link MpegTsServer}: each client gets its own ffmpeg encoding a 10 fps 128x96 test
 * pattern in real time as MPEG-TS, sent without a length, as an HTTP camera or a relay does.
 */
export async function startMpegTsServer(): Promise<MpegTsServer> {
  const encoders = new Set<TestProcess>();
  let connections = 0;
  const server = createHttpServer((_request, response) => {
    connections += 1;
    const encoder = startProcess('ffmpeg', [
      '-nostdin', '-hide_banner', '-loglevel', 'error',
      '-re', '-f', 'lavfi', '-i', 'testsrc2=size=128x96:rate=10',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10', '-pix_fmt', 'yuv420p',
      '-f', 'mpegts', 'pipe:1',
    ]);
    encoders.add(encoder);
    // startProcess collects stdout for failure messages; the bytes go to the client as well.
    response.writeHead(200, { 'Content-Type': 'video/mp2t', 'Cache-Control': 'no-cache' });
    encoder.child.stdout?.pipe(response);
    response.once('close', () => {
      encoders.delete(encoder);
      void encoder.kill();
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/live.ts`,
    get connections() {
      return connections;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await Promise.all([...encoders].map((encoder) => encoder.kill()));
    },
  };
}

/** A TLS endpoint on 127.0.0.1 that forwards each connection to a plain TCP port. */
export interface TlsForwarder {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts a {@link TlsForwarder} in front of `targetPort`, for protocols whose test server cannot
 * speak TLS itself (ffmpeg cannot listen on `rtmps://`).
 */
export function startTlsForwarder(targetPort: number, tls: TlsFiles): Promise<TlsForwarder> {
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: tls.key, cert: tls.cert }, (client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
