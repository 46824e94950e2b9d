#!/usr/bin/env bash
# Sets up framewise on a Debian machine and runs the main job: detect objects in a real video with a
# real model and write the annotated video plus one JSON line per frame.
#
# Offline, the model and the video come from the folder named by FRAMEWISE_ASSETS, which must hold
# models/yolov8n_int8.onnx and media/car-detection.mp4. Outputs go to ./out/.
set -euo pipefail
cd "$(dirname "$0")/.."

assets="${FRAMEWISE_ASSETS:?Set FRAMEWISE_ASSETS to the folder holding models/ and media/, for example FRAMEWISE_ASSETS=../shared}"
model="$assets/models/yolov8n_int8.onnx"
video="$assets/media/car-detection.mp4"
for file in "$model" "$video"; do
  [ -f "$file" ] || { echo "main-job: $file not found; check FRAMEWISE_ASSETS" >&2; exit 1; }
done

bash .ci/setup
mkdir -p out
node dist/src/cli/main.js detect "$video" --model "$model" --output out/car-detection.mp4 --json out/car-detection.jsonl
echo "Annotated video: out/car-detection.mp4"
echo "Detections:      out/car-detection.jsonl"
