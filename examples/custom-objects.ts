/**
 * ImageAI's custom video object detection for framewise: keep only people, bicycles and motorcycles.
 * ImageAI's spellings work (`motorbike`), as do COCO's (`motorcycle`).
 *
 * Run: npx tsx examples/custom-objects.ts tiny-yolov3-11.onnx traffic.mp4
 */
import { VideoObjectDetection } from '../src/index.js';

const [modelPath = 'tiny-yolov3-11.onnx', inputFilePath = 'traffic.mp4'] = process.argv.slice(2);

const detector = new VideoObjectDetection();
detector.setModelTypeAsTinyYOLOv3();
detector.setModelPath(modelPath);
await detector.loadModel();

const customObjects = detector.CustomObjects({ person: true, bicycle: true, motorbike: true });

const videoPath = await detector.detectCustomObjectsFromVideo({
  customObjects,
  inputFilePath,
  outputFilePath: 'traffic_custom_detected.mp4',
  framesPerSecond: 20,
  logProgress: true,
});
console.log(videoPath);
await detector.dispose();
