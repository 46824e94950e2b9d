/**
 * A small HTTP server on 127.0.0.1 for download tests. It serves byte buffers by path, honours
 * `Range: bytes=N-` requests, records every request, and can be set to cut the connection after a
 * number of bytes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the server received. */
export interface RecordedRequest {
  readonly path: string;
  readonly range?: string;
}

/** A running test server. */
export interface FileServer {
  /** `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Serves `bytes` at `path`. */
  serve(path: string, bytes: Uint8Array): void;
  /** Makes the next responses stop after sending `bytes` body bytes and destroy the socket; `undefined` turns it off. */
  cutAfter(bytes: number | undefined): void;
  /** Makes the server ignore `Range` headers and always send the whole file with 200. */
  ignoreRanges(ignore: boolean): void;
  close(): Promise<void>;
}

/** Starts a {@link FileServer} on a free port of 127.0.0.1. */
export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, Uint8Array>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let cutAfterBytes: number | undefined;
  let rangesIgnored = false;

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const range = request.headers.range;
    requests.push({ path, range });
    const file = files.get(path);
    if (!file) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }

    let start = 0;
    const match = rangesIgnored ? null : /^bytes=(\d+)-$/.exec(range ?? '');
    if (match) {
      start = Number(match[1]);
      if (start >= file.length) {
        response.writeHead(416, { 'Content-Range': `bytes */${file.length}` }).end();
        return;
      }
      response.writeHead(206, { 'Content-Length': file.length - start, 'Content-Range': `bytes ${start}-${file.length - 1}/${file.length}` });
    } else {
      response.writeHead(200, { 'Content-Length': file.length });
    }

    const body = file.subarray(start);
    if (cutAfterBytes === undefined) {
      response.end(body);
      return;
    }
    response.write(body.subarray(0, cutAfterBytes), () => {
      // Destroying the socket ends the body early, as a dropped connection does.
      setTimeout(() => request.socket.destroy(), 20);
    });
  };

  const server: Server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    serve: (path, bytes) => files.set(path, bytes),
    cutAfter: (bytes) => {
      cutAfterBytes = bytes;
    },
    ignoreRanges: (ignore) => {
      rangesIgnored = ignore;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
