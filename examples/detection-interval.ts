/**
 * ImageAI's frame detection interval for framewise: run the model on frames 1, 6, 11, … only.
 * The frames in between keep the latest boxes in the video and in every callback, so averages
 * are not diluted by them.
 *
 * Run: npx tsx examples/detection-interval.ts yolov8n.onnx traffic.mp4
 */
import { VideoObjectDetection } from '../src/index.js';

const [modelPath = 'yolov8n.onnx', inputFilePath = 'traffic.mp4'] = process.argv.slice(2);

const detector = new VideoObjectDetection();
detector.setModelTypeAsYOLOv8();
detector.setModelPath(modelPath);
await detector.loadModel();

const videoPath = await detector.detectObjectsFromVideo({
  inputFilePath,
  outputFilePath: 'traffic_detected_interval.mp4',
  framesPerSecond: 20,
  frameDetectionInterval: 5,
  logProgress: true,
  perSecondFunction: (second, _outputArrays, _countArrays, averageOutputCount) => console.log(second, averageOutputCount),
});
console.log(videoPath);
await detector.dispose();
