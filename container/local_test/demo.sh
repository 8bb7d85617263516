#!/usr/bin/env bash
# The whole job, end to end: build the image, train on the bundled IBM data, serve the
# model, score real employees as CSV and JSON, then stop the server.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$HERE"
name="attrition-demo-$$"

echo "== build $IMAGE"
./build.sh >/dev/null
echo "== train on test_dir/input/data/train/ibm_hr_attrition.csv"
./train_local.sh
echo "== serve on port $PORT"
trap 'docker stop "$name" >/dev/null 2>&1 || true' EXIT
start=$(date +%s%N)
./serve_local.sh -d --name "$name" >/dev/null
for _ in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$PORT/ping" >/dev/null 2>&1; then break; fi
    if ! docker inspect "$name" >/dev/null 2>&1; then echo "server exited; see its log above" >&2; exit 1; fi
    sleep 0.05
done
curl -fs "http://127.0.0.1:$PORT/ping" >/dev/null || { docker logs "$name" >&2; exit 1; }
echo "first 200 on /ping $(( ($(date +%s%N) - start) / 1000000 )) ms after docker run"
echo "== three employees as headerless CSV (payload.csv)"
./predict.sh payload.csv text/csv text/csv
echo "== two employees as JSON records (payload.json)"
./predict.sh payload.json application/json application/json
