/**
 * ImageAI's video-complete function for framewise: one call after the whole video, with every
 * frame's detections and counts and the average counts over the video. It runs once the output
 * video is final, so it may read the file.
 *
 * Run: npx tsx examples/video-complete.ts yolov8n.onnx traffic.mp4
 */
import { VideoObjectDetection, type ImageAICounts, type ImageAIDetection } from '../src/index.js';

const [modelPath = 'yolov8n.onnx', inputFilePath = 'traffic.mp4'] = process.argv.slice(2);

function forFull(outputArrays: ImageAIDetection[][], countArrays: ImageAICounts[], averageOutputCount: ImageAICounts): void {
  console.log(`${outputArrays.length} frames analysed, ${countArrays.length} count dictionaries`);
  console.log('Average count for unique objects over the whole video:', averageOutputCount);
}

const videoDetector = new VideoObjectDetection();
videoDetector.setModelTypeAsYOLOv8();
videoDetector.setModelPath(modelPath);
await videoDetector.loadModel();

await videoDetector.detectObjectsFromVideo({
  inputFilePath,
  outputFilePath: 'traffic_detected',
  framesPerSecond: 10,
  videoCompleteFunction: forFull,
  minimumPercentageProbability: 30,
});
await videoDetector.dispose();
