/**
 * ImageAI's detection timeout for framewise: stop after 120 seconds of video. For a file that is
 * the first two minutes; for a camera (`cameraInput`), two minutes from its first frame. The
 * output is finalised and the video-complete function still runs.
 *
 * Run: npx tsx examples/detection-timeout.ts yolov8n.onnx traffic.mp4
 */
import { VideoObjectDetection } from '../src/index.js';

const [modelPath = 'yolov8n.onnx', inputFilePath = 'traffic.mp4'] = process.argv.slice(2);

const detector = new VideoObjectDetection();
detector.setModelTypeAsYOLOv8();
detector.setModelPath(modelPath);
await detector.loadModel();

const videoPath = await detector.detectObjectsFromVideo({
  inputFilePath,
  outputFilePath: 'traffic_first_two_minutes',
  framesPerSecond: 20,
  logProgress: true,
  minimumPercentageProbability: 40,
  detectionTimeout: 120,
  videoCompleteFunction: (outputArrays) => console.log(`${outputArrays.length} frames analysed`),
});
console.log(videoPath);
await detector.dispose();
