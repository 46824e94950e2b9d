#!/usr/bin/env bash
# Sets up framewise on a Debian machine and runs the main job: detect objects in a real video with a
# real model and write the annotated video plus one JSON line per frame into ./out/.
#
# Offline: set FRAMEWISE_ASSETS to a folder holding models/yolov8n_int8.onnx and
# media/car-detection.mp4. Online, without FRAMEWISE_ASSETS: the script downloads TinyYOLOv3 (ImageAI's
# model family, as the ONNX model zoo's export) and the sample video into out/cache, checking sha256.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/setup
mkdir -p out
cli=(node dist/src/cli/main.js)

if [ -n "${FRAMEWISE_ASSETS:-}" ]; then
  model="$FRAMEWISE_ASSETS/models/yolov8n_int8.onnx"
  video="$FRAMEWISE_ASSETS/media/car-detection.mp4"
  for file in "$model" "$video"; do
    [ -f "$file" ] || { echo "main-job: $file not found; check FRAMEWISE_ASSETS" >&2; exit 1; }
  done
  model_args=(--model "$model")
else
  "${cli[@]}" models pull tiny-yolov3 car-detection --cache-dir out/cache
  video=out/cache/car-detection.mp4
  model_args=(--model tiny-yolov3 --cache-dir out/cache)
fi

"${cli[@]}" detect "$video" "${model_args[@]}" --output out/car-detection.mp4 --json out/car-detection.jsonl
echo "Annotated video: out/car-detection.mp4"
echo "Detections:      out/car-detection.jsonl"
