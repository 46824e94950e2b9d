/**
 * ImageAI's camera example for framewise: detect objects in the default camera's stream with
 * OpenCV's VideoCapture. Needs the optional `@u4/opencv4nodejs` package; any object with a `read()`
 * method returning BGR images works as `cameraInput`. The run ends when the camera stops (or add
 * `detectionTimeout`, see detection-timeout.ts), or on Ctrl+C.
 *
 * Run: npx tsx examples/camera-detection.ts yolov8n.onnx
 */
import { VideoObjectDetection, type CaptureLike } from '../src/index.js';

const [modelPath = 'yolov8n.onnx'] = process.argv.slice(2);

// Imported by name at run time, so this example type-checks without the optional package.
const openCvModule = '@u4/opencv4nodejs';
const cv = (await import(openCvModule)) as { VideoCapture: new (device: number) => CaptureLike };
const camera = new cv.VideoCapture(0);

const detector = new VideoObjectDetection();
detector.setModelTypeAsYOLOv8();
detector.setModelPath(modelPath);
await detector.loadModel();

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const videoPath = await detector
  .detectObjectsFromVideo({
    cameraInput: camera,
    outputFilePath: 'camera_detected_video',
    framesPerSecond: 20,
    logProgress: true,
    minimumPercentageProbability: 40,
    signal: controller.signal,
  })
  .catch((error: unknown) => {
    // Ctrl+C: the video written so far is finalised before the promise rejects.
    if (controller.signal.aborted) return 'camera_detected_video.avi';
    throw error;
  });
console.log(videoPath);
await detector.dispose();
