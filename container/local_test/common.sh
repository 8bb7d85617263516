# Shared settings for the local_test scripts (sourced, not run).
#   IMAGE       image tag to build and run            (default attrition-sagemaker:local)
#   PORT        port on this machine for the server   (default 8080)
#   BASE_IMAGE  base image for the build              (default python:3.11-slim-bookworm)
#   NETWORK     "host" or "bridge"; by default host networking is used when the engine has
#               no bridge network (as on our CI machines), else the usual -p PORT:8080
IMAGE=${IMAGE:-attrition-sagemaker:local}
PORT=${PORT:-8080}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_DIR="$HERE/test_dir"

if [ -z "${NETWORK:-}" ]; then
    if docker network inspect bridge >/dev/null 2>&1; then NETWORK=bridge; else NETWORK=host; fi
fi
if [ "$NETWORK" = host ]; then
    NET_ARGS=(--network host -e "SAGEMAKER_BIND_TO_PORT=$PORT")
else
    NET_ARGS=(-p "$PORT:8080")
fi
