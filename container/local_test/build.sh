#!/usr/bin/env bash
# Build the image. Usage: build.sh   (IMAGE, BASE_IMAGE: see common.sh)
set -euo pipefail
source "$(dirname "$0")/common.sh"
commit=$(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo unknown)
docker build --network host \
    --build-arg "BASE_IMAGE=${BASE_IMAGE:-python:3.11-slim-bookworm}" \
    --build-arg "GIT_COMMIT=$commit" \
    -t "$IMAGE" "$HERE/.."
