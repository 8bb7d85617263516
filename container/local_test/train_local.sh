#!/usr/bin/env bash
# Train on test_dir/input (laid out like /opt/ml) into test_dir/model and test_dir/output.
# Usage: train_local.sh   (runs as your user, so the files it writes are yours)
set -euo pipefail
source "$(dirname "$0")/common.sh"
rm -rf "$TEST_DIR/model" "$TEST_DIR/output"
mkdir -p "$TEST_DIR/model" "$TEST_DIR/output"
docker run --rm --network host --user "$(id -u):$(id -g)" \
    -v "$TEST_DIR:/opt/ml" "$IMAGE" train
