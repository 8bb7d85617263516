#!/usr/bin/env bash
# Serve test_dir/model on localhost:$PORT until Ctrl-C. Extra arguments go to `docker run`
# (for example -d --name attrition to run it in the background). CAPTURE=1 records every
# answered request in SageMaker's data-capture format under test_dir/capture, for monitor_local.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
capture=()
if [ "${CAPTURE:-0}" = 1 ]; then
    mkdir -p "$TEST_DIR/capture"
    capture=(--user "$(id -u):$(id -g)" -v "$TEST_DIR/capture:/capture" -e ATTRITION_CAPTURE_DIR=/capture)
fi
exec docker run --rm "${NET_ARGS[@]}" -v "$TEST_DIR/model:/opt/ml/model:ro" ${capture[@]+"${capture[@]}"} "$@" "$IMAGE" serve
