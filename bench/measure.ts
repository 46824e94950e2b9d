/**
 * Runs one measurement of the benchmark in this process and prints its result as one line
 * `BENCH_RESULT <json>` on stdout. bench/main.ts starts one such process per measurement.
 *
 * Usage: node --import tsx bench/measure.ts '<json of a MeasurementRequest>'
 */
import { measureLimits, measureLongRun, measureMultiSource, measureNaive, measurePipeline, RESULT_PREFIX, type MeasurementRequest } from './cases.js';

async function run(request: MeasurementRequest): Promise<unknown> {
  switch (request.kind) {
    case 'limits':
      return measureLimits(request.modelPath, request.videoPath);
    case 'pipeline':
      return measurePipeline(request);
    case 'naive':
      return measureNaive(request.modelPath, request.videoPath);
    case 'multi-source':
      return measureMultiSource(request);
    case 'long-run':
      return measureLongRun(request);
  }
}

const argument = process.argv[2];
if (argument !== undefined) {
  const result = await run(JSON.parse(argument) as MeasurementRequest);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}
