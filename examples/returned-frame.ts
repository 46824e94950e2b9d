/**
 * ImageAI's returned detected frame for framewise: with `returnDetectedFrame`, the per-frame,
 * per-second and per-minute functions also receive the annotated frame. It is a framewise
 * `DetectedFrame`: RGB24 pixels (not OpenCV's BGR) with its width, height, timestamp and detections.
 *
 * Run: npx tsx examples/returned-frame.ts yolov8n.onnx traffic.mp4
 */
import { VideoObjectDetection, type DetectedFrame, type ImageAICounts, type ImageAIDetection } from '../src/index.js';

const [modelPath = 'yolov8n.onnx', inputFilePath = 'traffic.mp4'] = process.argv.slice(2);

function forFrame(frameNumber: number, outputArray: ImageAIDetection[], outputCount: ImageAICounts, detectedFrame?: DetectedFrame): void {
  console.log('FOR FRAME', frameNumber, outputCount);
  if (detectedFrame) {
    console.log(`Returned frame: ${detectedFrame.width}x${detectedFrame.height} RGB at ${detectedFrame.timestampMs} ms, ${outputArray.length} objects`);
  }
}

const videoDetector = new VideoObjectDetection();
videoDetector.setModelTypeAsYOLOv8();
videoDetector.setModelPath(modelPath);
await videoDetector.loadModel();

await videoDetector.detectObjectsFromVideo({
  inputFilePath,
  outputFilePath: 'traffic_detected',
  framesPerSecond: 10,
  perFrameFunction: forFrame,
  minimumPercentageProbability: 30,
  returnDetectedFrame: true,
});
await videoDetector.dispose();
