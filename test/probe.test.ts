import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { probeVideo, videoInfoFromProbe } from '../src/ffmpeg/probe.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { createTempMediaDir, sharedMedia, waitForNoChildren, type TempMediaDir } from './helpers/media.js';

const carVideo = sharedMedia('car-detection.mp4');

async function rejection(promise: Promise<unknown>): Promise<FramewiseError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isFramewiseError(error)) throw new Error(`Expected a FramewiseError, got ${String(error)}`);
  return error;
}

describe.skipIf(!carVideo)('probeVideo on car-detection.mp4 (needs ../shared/media)', () => {
  it('reads size, rate, count and audio', async () => {
    const info = await probeVideo(carVideo as string);
    expect(info.width).toBe(768);
    expect(info.height).toBe(432);
    expect(info.frameRate).toEqual({ num: 25, den: 2 });
    expect(info.fps).toBe(12.5);
    expect(info.frameCount).toBe(377);
    expect(info.durationMs).toBe(30160);
    expect(info.hasAudio).toBe(true);
    expect(info.codec).toBe('h264');
    expect(info.pixelFormat).toBe('yuv420p');
    expect(info.rotation).toBe(0);
    expect(info.isStillImage).toBe(false);
    expect(info.videoStreamIndex).toBe(0);
  });
});

describe('probeVideo on generated files', () => {
  let media: TempMediaDir;

  beforeAll(async () => {
    media = await createTempMediaDir();
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', 'clip.mp4');
    await media.ffmpeg('-i', 'clip.mp4', '-c', 'copy', '-metadata:s:v:0', 'rotate=90', 'rotated.mp4');
    await media.ffmpeg(
      '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1',
      '-f', 'lavfi', '-i', 'sine=duration=1',
      '-map', '1:a', '-map', '0:v', '-c:v', 'mpeg4', '-c:a', 'aac', 'audio-first.mp4',
    );
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', 'still.png');
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', 'still.jpg');
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=1', '-c:v', 'mjpeg', '-f', 'mjpeg', 'raw.mjpeg');
    await media.ffmpeg('-f', 'lavfi', '-i', 'sine=duration=1', 'tone.m4a');
    await writeFile(media.file('text.mp4'), 'This is a text file, not a video.\n');
    await mkdir(media.file('folder.mp4'));
  });

  afterAll(async () => {
    await media?.remove();
  });

  it('reads a generated H.264 clip', async () => {
    const info = await probeVideo(media.file('clip.mp4'));
    expect(info.width).toBe(320);
    expect(info.height).toBe(240);
    expect(info.frameRate).toEqual({ num: 25, den: 1 });
    expect(info.fps).toBe(25);
    expect(info.frameCount).toBe(50);
    expect(info.durationMs).toBe(2000);
    expect(info.hasAudio).toBe(false);
    expect(info.isStillImage).toBe(false);
  });

  it('swaps sides of a rotated clip', async () => {
    const info = await probeVideo(media.file('rotated.mp4'));
    expect(info.width).toBe(240);
    expect(info.height).toBe(320);
    // ffmpeg 5.1's MP4 muxer stores `rotate=90` as a matrix that reads back as 90 degrees
    // counterclockwise, which is 270 clockwise; test/video-file.test.ts checks the pixels.
    expect(info.rotation).toBe(270);
  });

  it('finds video stored after audio', async () => {
    const info = await probeVideo(media.file('audio-first.mp4'));
    expect(info.videoStreamIndex).toBe(1);
    expect(info.hasAudio).toBe(true);
    expect(info.codec).toBe('mpeg4');
    expect(info.width).toBe(160);
  });

  it.each([
    ['still.png', 'png'],
    ['still.jpg', 'mjpeg'],
  ])('treats %s as a still image', async (name, codec) => {
    const info = await probeVideo(media.file(name));
    expect(info.isStillImage).toBe(true);
    expect(info.codec).toBe(codec);
    expect(info.frameCount).toBe(1);
    expect(info.frameRate).toBeUndefined();
    expect(info.fps).toBeUndefined();
    expect(info.durationMs).toBeUndefined();
    expect(info.width).toBe(64);
    expect(info.height).toBe(48);
  });

  it('reads an image named like a sequence', async () => {
    await copyFile(media.file('still.png'), media.file('frame%03d.png'));
    const info = await probeVideo(media.file('frame%03d.png'));
    expect(info.isStillImage).toBe(true);
    expect(info.formatName).toBe('image2');
    expect(info.width).toBe(64);
  });

  it('leaves the rate of raw MJPEG unknown', async () => {
    const info = await probeVideo(media.file('raw.mjpeg'));
    expect(info.frameRate).toBeUndefined();
    expect(info.fps).toBeUndefined();
    expect(info.isStillImage).toBe(false);
  });

  it('reads names starting with a dash or holding a colon', async () => {
    for (const name of ['-clip.mp4', 'clip:2.mp4', 'pipe:1', 'clip%d.mp4']) {
      await copyFile(media.file('clip.mp4'), media.file(name));
      const info = await probeVideo(media.file(name));
      expect(info.width, name).toBe(320);
    }
  });

  it('rejects a missing file with INPUT_NOT_FOUND', async () => {
    const error = await rejection(probeVideo('no/such/video.mp4'));
    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.message).toContain('"no/such/video.mp4"');
    expect(error.context.path).toBe('no/such/video.mp4');
  });

  it('rejects a text file with INVALID_INPUT', async () => {
    const error = await rejection(probeVideo(media.file('text.mp4')));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('Invalid data found when processing input');
  });

  it('rejects a folder with INVALID_INPUT', async () => {
    const error = await rejection(probeVideo(media.file('folder.mp4')));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('not a regular file');
  });

  it('rejects audio only with NO_VIDEO_STREAM', async () => {
    const error = await rejection(probeVideo(media.file('tone.m4a')));
    expect(error.code).toBe('NO_VIDEO_STREAM');
  });

  it('rejects a missing ffprobe with FFMPEG_NOT_FOUND', async () => {
    const error = await rejection(probeVideo(media.file('clip.mp4'), { ffprobePath: '/nonexistent/ffprobe' }));
    expect(error.code).toBe('FFMPEG_NOT_FOUND');
    expect(error.message).toContain('apt-get install ffmpeg');
  });

  it('rejects an empty path with INVALID_ARGUMENT', async () => {
    const error = await rejection(probeVideo(''));
    expect(error.code).toBe('INVALID_ARGUMENT');
  });

  it('rejects an aborted signal with ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(probeVideo(media.file('clip.mp4'), { signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
  });

  it('stops ffprobe when aborted while running', async () => {
    const controller = new AbortController();
    const probing = probeVideo(media.file('clip.mp4'), { signal: controller.signal });
    // Abort once ffprobe has started; before that, the abort is caught by the checks on entry.
    while (runningChildPids().length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    controller.abort();
    const error = await rejection(probing);
    expect(error.code).toBe('ABORTED');
    await waitForNoChildren(runningChildPids);
  });
});

describe('videoInfoFromProbe', () => {
  const baseStream = {
    index: 0,
    codec_type: 'video',
    codec_name: 'h264',
    width: 640,
    height: 360,
    pix_fmt: 'yuv420p',
    avg_frame_rate: '30000/1001',
    duration: '10.010000',
    nb_frames: '300',
  };
  const format = { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '10.010000' };

  it.each([
    // [case, extra stream fields, expected rotation, expected width x height]
    ['no rotation', {}, 0, [640, 360]],
    ['display matrix 90 ccw', { side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] }, 270, [360, 640]],
    ['display matrix -90', { side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] }, 90, [360, 640]],
    ['display matrix 180', { side_data_list: [{ side_data_type: 'Display Matrix', rotation: 180 }] }, 180, [640, 360]],
    ['legacy rotate tag 90', { tags: { rotate: '90' } }, 90, [360, 640]],
    ['legacy rotate tag 270', { tags: { rotate: '270' } }, 270, [360, 640]],
    ['odd angle 45', { tags: { rotate: '45' } }, 45, [640, 360]],
  ] as const)('reads rotation: %s', (_name, extra, rotation, size) => {
    const info = videoInfoFromProbe({ streams: [{ ...baseStream, ...extra }], format }, 'x.mp4');
    expect(info.rotation).toBe(rotation);
    expect([info.width, info.height]).toEqual(size);
  });

  it.each([
    // [case, avg_frame_rate, format name, expected frameRate]
    ['NTSC rate', '30000/1001', 'mov,mp4,m4a,3gp,3g2,mj2', { num: 30000, den: 1001 }],
    ['unknown 0/0', '0/0', 'matroska,webm', undefined],
    ['zero numerator', '0/1', 'matroska,webm', undefined],
    ['missing', undefined, 'matroska,webm', undefined],
    ['raw MJPEG guess', '25/1', 'mjpeg', undefined],
    ['multipart JPEG guess', '25/1', 'mpjpeg', undefined],
  ] as const)('reads frame rate: %s', (_name, avgFrameRate, formatName, expected) => {
    const info = videoInfoFromProbe(
      { streams: [{ ...baseStream, avg_frame_rate: avgFrameRate }], format: { format_name: formatName } },
      'x',
    );
    expect(info.frameRate).toEqual(expected);
    expect(info.fps).toBe(expected ? expected.num / expected.den : undefined);
  });

  it('skips a cover image for the video', () => {
    const info = videoInfoFromProbe(
      {
        streams: [
          { index: 0, codec_type: 'video', codec_name: 'mjpeg', width: 300, height: 300, disposition: { attached_pic: 1 } },
          { ...baseStream, index: 1 },
        ],
        format,
      },
      'x.mp4',
    );
    expect(info.videoStreamIndex).toBe(1);
    expect(info.codec).toBe('h264');
  });

  it('rejects a file with only a cover image', () => {
    const streams = [
      { index: 0, codec_type: 'audio', codec_name: 'mp3' },
      { index: 1, codec_type: 'video', codec_name: 'mjpeg', width: 300, height: 300, disposition: { attached_pic: 1 } },
    ];
    expect(() => videoInfoFromProbe({ streams, format: { format_name: 'mp3' } }, 'song.mp3')).toThrow(
      expect.objectContaining({ code: 'NO_VIDEO_STREAM' }),
    );
  });

  it('treats one MJPEG frame without duration as an image', () => {
    const stream = { ...baseStream, codec_name: 'mjpeg', avg_frame_rate: '25/1', duration: undefined, nb_frames: '1' };
    const info = videoInfoFromProbe({ streams: [stream], format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2' } }, 'x');
    expect(info.isStillImage).toBe(true);
    expect(info.frameRate).toBeUndefined();
  });

  it('falls back to the container duration', () => {
    const info = videoInfoFromProbe({ streams: [{ ...baseStream, duration: undefined, nb_frames: undefined }], format }, 'x');
    expect(info.durationMs).toBe(10010);
    expect(info.frameCount).toBeUndefined();
  });

  it('rejects a stream without a frame size', () => {
    expect(() => videoInfoFromProbe({ streams: [{ ...baseStream, width: 0 }], format }, 'x')).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });
});
