#!/usr/bin/env bash
# Serve test_dir/model on localhost:$PORT until Ctrl-C. Extra arguments go to `docker run`
# (for example -d --name attrition to run it in the background).
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec docker run --rm "${NET_ARGS[@]}" -v "$TEST_DIR/model:/opt/ml/model:ro" "$@" "$IMAGE" serve
