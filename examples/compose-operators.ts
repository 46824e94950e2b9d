/**
 * The README's code example: detect people and cars, log them, and write an annotated copy with
 * the source's audio. The run stops after 60 s of wall-clock time.
 *
 * Run: npx tsx examples/compose-operators.ts yolov8n.onnx street.mp4
 */
import { tap } from 'rxjs';
import { annotate, detect, writeVideo } from '../operators/index.js';
import { fromVideoFile, loadDetector, runPipeline } from '../src/index.js';

const [modelPath = 'yolov8n.onnx', videoPath = 'street.mp4'] = process.argv.slice(2);

const detector = await loadDetector(modelPath);
try {
  await runPipeline(
    fromVideoFile(videoPath).pipe(
      detect(detector, { minScore: 0.4, classes: ['person', 'car'] }),
      tap((frame) => console.log(frame.index, frame.timestampMs, frame.detections.map((d) => d.name))),
      annotate(),
      writeVideo('street.annotated.mp4', { audioFrom: videoPath }),
    ),
    { signal: AbortSignal.timeout(60_000) },
  );
} finally {
  await detector.dispose();
}
