/**
 * ImageAI's video analysis example for framewise: functions called for every frame, second and
 * minute of the video, with the detections, their counts per class and the average counts.
 *
 * Run: npx tsx examples/video-analysis.ts yolov8n.onnx traffic.mp4
 */
import { VideoObjectDetection, type ImageAICounts, type ImageAIDetection } from '../src/index.js';

const [modelPath = 'yolov8n.onnx', inputFilePath = 'traffic.mp4'] = process.argv.slice(2);

function forFrame(frameNumber: number, outputArray: ImageAIDetection[], outputCount: ImageAICounts): void {
  console.log('FOR FRAME', frameNumber);
  console.log('Output for each object:', outputArray);
  console.log('Output count for unique objects:', outputCount);
  console.log('------------END OF A FRAME --------------');
}

function forSeconds(secondNumber: number, outputArrays: ImageAIDetection[][], countArrays: ImageAICounts[], averageOutputCount: ImageAICounts): void {
  console.log('SECOND:', secondNumber);
  console.log('Array for the outputs of each frame', outputArrays);
  console.log('Array for output count for unique objects in each frame:', countArrays);
  console.log('Output average count for unique objects in the last second:', averageOutputCount);
  console.log('------------END OF A SECOND --------------');
}

function forMinute(minuteNumber: number, outputArrays: ImageAIDetection[][], countArrays: ImageAICounts[], averageOutputCount: ImageAICounts): void {
  console.log('MINUTE:', minuteNumber);
  console.log('Frames in the minute:', outputArrays.length, 'count dictionaries:', countArrays.length);
  console.log('Output average count for unique objects in the last minute:', averageOutputCount);
  console.log('------------END OF A MINUTE --------------');
}

const videoDetector = new VideoObjectDetection();
videoDetector.setModelTypeAsYOLOv8();
videoDetector.setModelPath(modelPath);
await videoDetector.loadModel();

await videoDetector.detectObjectsFromVideo({
  inputFilePath,
  outputFilePath: 'traffic_detected',
  framesPerSecond: 10,
  perSecondFunction: forSeconds,
  perFrameFunction: forFrame,
  perMinuteFunction: forMinute,
  minimumPercentageProbability: 30,
});
await videoDetector.dispose();
