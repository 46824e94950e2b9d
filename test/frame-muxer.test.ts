import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { rawVideoBlockHeader, rawVideoStreamHeader } from '../src/ffmpeg/frame-muxer.js';

/** Runs ffmpeg with `input` on stdin and returns its stdout. */
function ffmpeg(args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('ffmpeg', args, { encoding: 'buffer', maxBuffer: 1 << 24 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

function stream(width: number, height: number, frames: { timestampUs: number; data: Buffer }[], defaultDurationUs?: number): Buffer {
  const parts = [rawVideoStreamHeader({ width, height, defaultDurationUs })];
  for (const frame of frames) parts.push(rawVideoBlockHeader(frame.timestampUs, frame.data.length), frame.data);
  return Buffer.concat(parts);
}

describe('raw video Matroska stream', () => {
  it('round-trips RGB24 pixels through ffmpeg', async () => {
    const frames = [0, 1, 2].map((index) => ({
      timestampUs: index * 40_000,
      data: Buffer.from(Array.from({ length: 5 * 3 * 3 }, (_, byte) => (byte * 7 + index * 50) % 256)),
    }));
    const decoded = await ffmpeg(
      ['-v', 'error', '-f', 'matroska', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
      stream(5, 3, frames, 40_000),
    );
    expect(decoded.equals(Buffer.concat(frames.map((frame) => frame.data)))).toBe(true);
  });

  it('carries timestamps and the default duration', async () => {
    const data = Buffer.alloc(4 * 2 * 3);
    const timestamps = [0, 40_000, 120_000, 1_000_000];
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile(
        'ffprobe',
        ['-v', 'error', '-f', 'matroska', '-show_streams', '-show_packets', '-of', 'json', 'pipe:0'],
        (error, out) => (error ? reject(error) : resolve({ stdout: out })),
      );
      child.stdin?.end(stream(4, 2, timestamps.map((timestampUs) => ({ timestampUs, data })), 33_367));
    });
    const probed = JSON.parse(stdout) as {
      streams: { codec_name: string; pix_fmt: string; width: number; height: number; avg_frame_rate: string }[];
      packets: { pts: number }[];
    };
    expect(probed.streams[0]).toMatchObject({ codec_name: 'rawvideo', pix_fmt: 'rgb24', width: 4, height: 2 });
    const [numerator, denominator] = probed.streams[0]!.avg_frame_rate.split('/').map(Number);
    expect(numerator! / denominator!).toBeCloseTo(1_000_000 / 33_367, 2);
    expect(probed.packets.map((packet) => packet.pts)).toEqual(timestamps);
  });

  it('encodes large element sizes', () => {
    // A 4K frame needs a 4-byte size field; the header must still parse as one Cluster.
    const header = rawVideoBlockHeader(123_456, 3840 * 2160 * 3);
    expect(header.subarray(0, 4).toString('hex')).toBe('1f43b675');
    expect(header[4]! & 0xf0).toBe(0x10);
  });
});
