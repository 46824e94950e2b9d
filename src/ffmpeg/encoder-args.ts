/**
 * The ffmpeg command line of `writeVideo`: which muxer and codecs each file extension gets, and the
 * argument list that reads Matroska-wrapped raw frames from stdin and writes the output file.
 */
import { extname } from 'node:path';

/** Output file formats `writeVideo` can write, keyed by lowercase file extension. */
export interface ContainerSpec {
  /** ffmpeg muxer name passed to `-f`. */
  readonly muxer: string;
  /** Video encoder passed to `-c:v`. */
  readonly videoCodec: 'libx264' | 'libvpx-vp9' | 'mjpeg';
  /** Audio codecs the container can hold, which are copied from `audioFrom` without re-encoding. */
  readonly copyableAudio: readonly string[];
  /** Audio encoder used when the source's audio codec cannot be copied. */
  readonly audioEncoder: 'aac' | 'libopus' | 'pcm_s16le';
  /** True when the container keeps per-frame timestamps; false for AVI, which has one constant rate. */
  readonly variableFrameRate: boolean;
}

const MP4_AUDIO = ['aac', 'mp3', 'ac3', 'eac3', 'alac'];

/** Supported extensions and what they produce. */
export const CONTAINERS: Readonly<Record<string, ContainerSpec>> = Object.freeze({
  '.mp4': { muxer: 'mp4', videoCodec: 'libx264', copyableAudio: MP4_AUDIO, audioEncoder: 'aac', variableFrameRate: true },
  '.m4v': { muxer: 'mp4', videoCodec: 'libx264', copyableAudio: MP4_AUDIO, audioEncoder: 'aac', variableFrameRate: true },
  '.mov': {
    muxer: 'mov',
    videoCodec: 'libx264',
    copyableAudio: [...MP4_AUDIO, 'pcm_s16le', 'pcm_s24le'],
    audioEncoder: 'aac',
    variableFrameRate: true,
  },
  '.mkv': {
    muxer: 'matroska',
    videoCodec: 'libx264',
    copyableAudio: [...MP4_AUDIO, 'opus', 'vorbis', 'flac', 'dts', 'pcm_s16le', 'pcm_s24le'],
    audioEncoder: 'aac',
    variableFrameRate: true,
  },
  '.webm': { muxer: 'webm', videoCodec: 'libvpx-vp9', copyableAudio: ['opus', 'vorbis'], audioEncoder: 'libopus', variableFrameRate: true },
  '.avi': { muxer: 'avi', videoCodec: 'mjpeg', copyableAudio: ['mp3', 'ac3', 'pcm_s16le'], audioEncoder: 'pcm_s16le', variableFrameRate: false },
});

/** The supported output extensions, for messages: `.mp4, .m4v, ...`. */
export const SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze(Object.keys(CONTAINERS));

/** Returns the container of an output path from its extension (case-insensitive), or undefined. */
export function containerForPath(path: string): ContainerSpec | undefined {
  return CONTAINERS[extname(path).toLowerCase()];
}

/** libx264 speed presets, fastest first. */
export const X264_PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
] as const;

/** A libx264 speed preset. */
export type X264Preset = (typeof X264_PRESETS)[number];

/** Timestamp policy of the output: the input's own timestamps or one constant rate. */
export type RateMode =
  /** Each frame keeps its input timestamp (variable rate allowed). */
  | { readonly kind: 'passthrough' }
  /** Constant rate: ffmpeg's `-r`, as a number or a `num/den` string. */
  | { readonly kind: 'constant'; readonly frameRate: string };

/** Everything {@link buildEncoderArgs} needs. */
export interface EncoderArgsSpec {
  readonly container: ContainerSpec;
  /** Absolute path that ffmpeg writes (the temporary name). */
  readonly outputPath: string;
  readonly rate: RateMode;
  /** Constant rate factor for libx264 and libvpx-vp9. */
  readonly crf: number;
  /** libx264 preset. */
  readonly preset: X264Preset;
  /** MJPEG quantizer scale, 2 (best) to 31. */
  readonly qscale: number;
  /** Audio to add: absolute source path and the codec for `-c:a` (`copy` or an encoder). */
  readonly audio?: { readonly path: string; readonly codec: string };
  /** Output options appended after the generated ones, before the output file. */
  readonly extraOutputArgs: readonly string[];
}

/**
 * Builds ffmpeg's argument list. Input 0 is Matroska on stdin; input 1 is the audio source when
 * given. Paths are passed as `file:` URLs, so a name starting with `-` or containing `:` is never
 * read as an option or a protocol.
 */
export function buildEncoderArgs(spec: EncoderArgsSpec): string[] {
  const { container } = spec;
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'matroska', '-i', 'pipe:0'];
  if (spec.audio) args.push('-i', `file:${spec.audio.path}`);
  args.push('-map', '0:v:0');
  if (spec.audio) args.push('-map', '1:a:0');

  args.push('-c:v', container.videoCodec);
  switch (container.videoCodec) {
    case 'libx264':
      args.push('-preset', spec.preset, '-crf', String(spec.crf), '-pix_fmt', 'yuv420p');
      break;
    case 'libvpx-vp9':
      // -b:v 0 makes -crf a constant-quality target; cpu-used 4 with row threads keeps VP9 usable on small machines.
      args.push('-crf', String(spec.crf), '-b:v', '0', '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1', '-pix_fmt', 'yuv420p');
      break;
    case 'mjpeg':
      args.push('-q:v', String(spec.qscale), '-pix_fmt', 'yuvj420p');
      break;
  }
  if (container.videoCodec !== 'mjpeg') {
    // 4:2:0 chroma needs even dimensions: add one column or row on the right or bottom when odd.
    args.push('-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2');
  }

  if (spec.rate.kind === 'passthrough') {
    // Keep every input timestamp, at microsecond resolution (the Matroska input's time base).
    args.push('-fps_mode', 'passthrough', '-enc_time_base', '-1');
  } else {
    args.push('-fps_mode', 'cfr', '-r', spec.rate.frameRate);
  }
  if (container.muxer === 'mp4' || container.muxer === 'mov') args.push('-movflags', '+faststart');

  if (spec.audio) {
    args.push('-c:a', spec.audio.codec);
    if (spec.audio.codec === 'aac' || spec.audio.codec === 'libopus') args.push('-b:a', '128k');
    // Ends the audio with the video, so a run that stopped early does not carry the source's whole track.
    args.push('-shortest');
  }
  args.push(...spec.extraOutputArgs, '-f', container.muxer, `file:${spec.outputPath}`);
  return args;
}
