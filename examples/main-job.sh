#!/usr/bin/env bash
# Sets up framewise on a Debian machine and runs the main job: detect objects in a real video with a
# real model and write the annotated video plus one JSON line per frame into ./out/.
#
# Offline: set FRAMEWISE_ASSETS to a folder holding models/yolov8n_int8.onnx and
# media/car-detection.mp4. Online, without FRAMEWISE_ASSETS: the script downloads TinyYOLOv3 (ImageAI's
# model family, as the ONNX model zoo's export) and the sample video into out/cache, checking sha256.
set -euo pipefail

# A relative FRAMEWISE_ASSETS is taken from where the script is run, so resolve it before the cd.
# The files are checked before the set-up, which takes a while.
if [ -n "${FRAMEWISE_ASSETS:-}" ]; then
  assets=$(cd "$FRAMEWISE_ASSETS" 2>/dev/null && pwd) || { echo "main-job: folder $FRAMEWISE_ASSETS not found; check FRAMEWISE_ASSETS" >&2; exit 1; }
  model="$assets/models/yolov8n_int8.onnx"
  video="$assets/media/car-detection.mp4"
  for file in "$model" "$video"; do
    [ -f "$file" ] || { echo "main-job: $file not found; check FRAMEWISE_ASSETS" >&2; exit 1; }
  done
fi
cd "$(dirname "$0")/.."

bash .ci/setup
mkdir -p out
cli=(node dist/src/cli/main.js)

if [ -n "${FRAMEWISE_ASSETS:-}" ]; then
  model_args=(--model "$model")
else
  "${cli[@]}" models pull tiny-yolov3 car-detection --cache-dir out/cache
  video=out/cache/car-detection.mp4
  model_args=(--model tiny-yolov3 --cache-dir out/cache)
fi

"${cli[@]}" detect "$video" "${model_args[@]}" --output out/car-detection.mp4 --json out/car-detection.jsonl
echo "Annotated video: out/car-detection.mp4"
echo "Detections:      out/car-detection.jsonl"
echo "Note: the video films the cars from above, a view COCO-trained models rarely saw, so besides"
echo "'car' they label some cars 'cell phone', 'bus' or 'suitcase'. Those labels come from the model."
