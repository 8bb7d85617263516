#!/usr/bin/env bash
# Compare captured traffic (or CSV files of recent employees) with the training baseline.
# Usage: monitor_local.sh [FOLDER]   (default test_dir/capture, where serve_local.sh captures
# when CAPTURE=1). Results: test_dir/monitoring/{drift_report,constraint_violations,statistics}.json
set -euo pipefail
source "$(dirname "$0")/common.sh"
source_dir=$(cd "${1:-$TEST_DIR/capture}" && pwd)
mkdir -p "$TEST_DIR/monitoring"
docker run --rm --network host --user "$(id -u):$(id -g)" \
    -v "$TEST_DIR/model:/opt/ml/model:ro" \
    -v "$source_dir:/opt/ml/processing/endpointdata:ro" \
    -v "$TEST_DIR/monitoring:/opt/ml/processing/resultdata" \
    "$IMAGE" monitor
