/**
 * ImageAI's FirstVideoObjectDetection.py for framewise: detect objects in a video file and write an
 * annotated copy.
 *
 * Run: npx tsx examples/first-video-detection.ts yolov8n.onnx traffic.mp4
 */
import { VideoObjectDetection } from '../src/index.js';

const [modelPath = 'yolov8n.onnx', inputFilePath = 'traffic.mp4'] = process.argv.slice(2);

const detector = new VideoObjectDetection();
detector.setModelTypeAsYOLOv8();
detector.setModelPath(modelPath);
await detector.loadModel();

const videoPath = await detector.detectObjectsFromVideo({
  inputFilePath,
  outputFilePath: 'traffic_detected', // no extension: written as traffic_detected.avi (MJPEG)
  framesPerSecond: 20,
  logProgress: true,
});
console.log(videoPath);
await detector.dispose();
