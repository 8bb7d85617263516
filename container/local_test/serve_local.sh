#!/usr/bin/env bash
# Serve a model on localhost:$PORT until Ctrl-C: MODEL_DIR (default test_dir/model; e.g. the MLflow
# champion, downloaded). Extra arguments go to `docker run` (for example -d --name attrition to run
# it in the background). CAPTURE=1 records every answered request in SageMaker's data-capture format
# under CAPTURE_DIR (default test_dir/capture), for monitor_local.sh and retrain_on_drift.py.
set -euo pipefail
source "$(dirname "$0")/common.sh"
model_dir=$(cd "${MODEL_DIR:-$TEST_DIR/model}" && pwd)
capture=()
if [ "${CAPTURE:-0}" = 1 ]; then
    capture_dir=${CAPTURE_DIR:-$TEST_DIR/capture}
    mkdir -p "$capture_dir"
    capture_dir=$(cd "$capture_dir" && pwd)
    capture=(--user "$(id -u):$(id -g)" -v "$capture_dir:/capture" -e ATTRITION_CAPTURE_DIR=/capture)
fi
exec docker run --rm "${NET_ARGS[@]}" -v "$model_dir:/opt/ml/model:ro" ${capture[@]+"${capture[@]}"} "$@" "$IMAGE" serve
