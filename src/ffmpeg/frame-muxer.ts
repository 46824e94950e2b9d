/**
 * A minimal Matroska writer for raw RGB24 video, so that frames piped to ffmpeg's stdin carry their
 * presentation timestamps. A bare `-f rawvideo` pipe has no timestamps: ffmpeg would assign a
 * constant rate, which loses gaps and variable frame rates.
 *
 * The stream is an EBML header, a Segment of unknown size (it is written before the frame count is
 * known), one Info and one Tracks element, then one Cluster per frame holding the frame as a
 * SimpleBlock. Timestamps are in microseconds (TimestampScale 1000 ns).
 * Element ids and layout follow the Matroska specification (RFC 9559). The track uses codec id
 * `V_UNCOMPRESSED` with the ColourSpace FourCC `RGB` + 0x18, which ffmpeg maps to `rgb24`.
 */

/** Nanoseconds per Matroska timestamp tick: one tick is one microsecond. */
export const MATROSKA_TIMESTAMP_SCALE_NS = 1000;

/** Matroska element ids used by this writer, with their marker bits included. */
const ID = {
  ebml: 0x1a45dfa3,
  ebmlVersion: 0x4286,
  ebmlReadVersion: 0x42f7,
  ebmlMaxIdLength: 0x42f2,
  ebmlMaxSizeLength: 0x42f3,
  docType: 0x4282,
  docTypeVersion: 0x4287,
  docTypeReadVersion: 0x4285,
  segment: 0x18538067,
  info: 0x1549a966,
  timestampScale: 0x2ad7b1,
  muxingApp: 0x4d80,
  writingApp: 0x5741,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackUid: 0x73c5,
  trackType: 0x83,
  flagLacing: 0x9c,
  codecId: 0x86,
  defaultDuration: 0x23e383,
  video: 0xe0,
  pixelWidth: 0xb0,
  pixelHeight: 0xba,
  colourSpace: 0x2eb524,
  cluster: 0x1f43b675,
  timestamp: 0xe7,
  simpleBlock: 0xa3,
} as const;

/** The reserved size value that marks an element of unknown size (8-byte form). */
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Matroska track type of video tracks. */
const TRACK_TYPE_VIDEO = 1;

/** Bytes of a SimpleBlock's header before the frame data: track number (1), relative timestamp (2), flags (1). */
const BLOCK_HEADER_BYTES = 4;

/** Settings of the single video track. */
export interface RawVideoTrack {
  /** Frame width in pixels. */
  readonly width: number;
  /** Frame height in pixels. */
  readonly height: number;
  /**
   * Nominal frame duration in microseconds, written as the track's DefaultDuration when given.
   * ffmpeg 5.1 derives the stream's frame rate from it, and with that the last frame's duration.
   */
  readonly defaultDurationUs?: number;
}

/**
 * Returns the bytes that open the stream: the EBML header, the Segment start, Info and Tracks.
 * Write them once, before the first {@link rawVideoBlockHeader}.
 */
export function rawVideoStreamHeader(track: RawVideoTrack): Buffer {
  const ebmlHeader = element(
    ID.ebml,
    Buffer.concat([
      uintElement(ID.ebmlVersion, 1),
      uintElement(ID.ebmlReadVersion, 1),
      uintElement(ID.ebmlMaxIdLength, 4),
      uintElement(ID.ebmlMaxSizeLength, 8),
      stringElement(ID.docType, 'matroska'),
      uintElement(ID.docTypeVersion, 4),
      uintElement(ID.docTypeReadVersion, 2),
    ]),
  );
  const info = element(
    ID.info,
    Buffer.concat([
      uintElement(ID.timestampScale, MATROSKA_TIMESTAMP_SCALE_NS),
      stringElement(ID.muxingApp, 'framewise'),
      stringElement(ID.writingApp, 'framewise'),
    ]),
  );
  const videoSettings = element(
    ID.video,
    Buffer.concat([
      uintElement(ID.pixelWidth, track.width),
      uintElement(ID.pixelHeight, track.height),
      element(ID.colourSpace, Buffer.from([0x52, 0x47, 0x42, 24])),
    ]),
  );
  const trackEntryParts = [
    uintElement(ID.trackNumber, 1),
    uintElement(ID.trackUid, 1),
    uintElement(ID.trackType, TRACK_TYPE_VIDEO),
    uintElement(ID.flagLacing, 0),
    stringElement(ID.codecId, 'V_UNCOMPRESSED'),
  ];
  if (track.defaultDurationUs !== undefined) {
    trackEntryParts.push(uintElement(ID.defaultDuration, Math.round(track.defaultDurationUs * 1000)));
  }
  trackEntryParts.push(videoSettings);
  const tracks = element(ID.tracks, element(ID.trackEntry, Buffer.concat(trackEntryParts)));

  return Buffer.concat([ebmlHeader, idBytes(ID.segment), UNKNOWN_SIZE, info, tracks]);
}

/**
 * Returns the bytes that precede one frame's pixels: a Cluster at `timestampUs` holding one
 * SimpleBlock, up to the start of the frame data. Write the `frameByteLength` pixel bytes right
 * after them. No block carries a duration: ffmpeg 5.1 takes the last frame's duration from the
 * track's DefaultDuration, not from BlockDuration.
 *
 * @param timestampUs presentation timestamp in microseconds, a non-negative integer.
 * @param frameByteLength size of the frame's pixel data in bytes.
 */
export function rawVideoBlockHeader(timestampUs: number, frameByteLength: number): Buffer {
  const blockHead = Buffer.concat([
    idBytes(ID.simpleBlock),
    sizeBytes(BLOCK_HEADER_BYTES + frameByteLength),
    // Track number 1 as a 1-byte variable-size integer, relative timestamp 0, keyframe flag.
    Buffer.from([0x81, 0x00, 0x00, 0x80]),
  ]);
  const clusterTimestamp = uintElement(ID.timestamp, timestampUs);
  const clusterSize = clusterTimestamp.length + blockHead.length + frameByteLength;
  return Buffer.concat([idBytes(ID.cluster), sizeBytes(clusterSize), clusterTimestamp, blockHead]);
}

function element(id: number, payload: Buffer): Buffer {
  return Buffer.concat([idBytes(id), sizeBytes(payload.length), payload]);
}

function uintElement(id: number, value: number): Buffer {
  return element(id, uintBytes(value));
}

function stringElement(id: number, value: string): Buffer {
  return element(id, Buffer.from(value, 'ascii'));
}

/** Big-endian bytes of an element id, whose leading bits already encode its length. */
function idBytes(id: number): Buffer {
  let length = 1;
  while (length < 4 && id >= 2 ** (8 * length)) length += 1;
  const bytes = Buffer.alloc(length);
  bytes.writeUIntBE(id, 0, length);
  return bytes;
}

/** Shortest big-endian encoding of an unsigned integer, at least one byte (Matroska uint payload). */
function uintBytes(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Matroska unsigned integer out of range: ${value}`);
  }
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/**
 * Variable-size integer of an element's data size: the count of leading zero bits before the first
 * set bit gives the extra bytes. The all-ones value of each length is reserved, hence the `- 1`.
 */
function sizeBytes(size: number): Buffer {
  let length = 1;
  while (length < 8 && size >= 2 ** (7 * length) - 1) length += 1;
  if (!Number.isSafeInteger(size) || size < 0 || size >= 2 ** (7 * length) - 1) {
    throw new RangeError(`Matroska element size out of range: ${size}`);
  }
  const bytes = Buffer.alloc(length);
  let rest = size;
  for (let index = length - 1; index >= 0; index -= 1) {
    bytes[index] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  bytes[0] = (bytes[0] ?? 0) | (0x80 >> (length - 1));
  return bytes;
}
