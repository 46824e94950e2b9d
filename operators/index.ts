export { detect, resolveDetectOptions, type DetectOptions } from './detect.js';
export { annotate, type AnnotateOptions } from './annotate.js';
export { writeVideo, pendingWriters, type WriteVideoOptions } from './write-video.js';
export { writeJsonLines, toFrameRecord, type WriteJsonLinesOptions, type FrameRecord } from './write-json-lines.js';
