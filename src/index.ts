export * from './types.js';
export * from './errors.js';
export * from './logger.js';
export { FRAME_LEASE, holdFrame, createFlowCounters, type FrameLease, type FlowCounters } from './backpressure.js';
export type { FfmpegPaths } from './ffmpeg/binaries.js';
export { runningChildPids } from './ffmpeg/process.js';
export * from './runtime/types.js';
