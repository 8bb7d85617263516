#!/usr/bin/env bash
# Build the image for linux/amd64 (SageMaker's platform) and push it to Amazon ECR, or to
# another registry. Prints the pushed image URI on the last line.
#
# ECR: region and account come from boto3's configuration (profile, environment); the
# repository is created if missing (scan on push, encryption); Docker logs in with a token
# from boto3 (no AWS CLI needed). AWS_ENDPOINT_URL is honoured as boto3 does.
# Needs: docker, python3 with boto3 (deploy/requirements.txt), git (for the default tag).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: build_and_push.sh [options]
  -r, --repository NAME   repository name (default attrition-sagemaker)
  -t, --tag TAG           image tag (default: the git commit, short)
      --no-latest         do not also push :latest
      --immutable         create the ECR repository with immutable tags (implies --no-latest)
      --kms-key ARN       encrypt a new ECR repository with this KMS key (default AES256)
      --registry HOST     push to this registry instead of ECR (no AWS calls); log in first,
                          or set REGISTRY_USERNAME and REGISTRY_PASSWORD
      --region REGION     AWS region (default: boto3's configuration)
      --base-image IMAGE  base image (default python:3.11-slim-bookworm)
  -h, --help              this text
Environment: REGISTRY_OVERRIDE=HOST pushes to HOST while still using ECR for the repository
and the login token (for testing against a local registry).
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deploy="$here/../deploy/attrition-deploy"
repository=attrition-sagemaker
tag=""
latest=1
immutable=()
kms=()
registry=""
region=()
base_image=${BASE_IMAGE:-python:3.11-slim-bookworm}

while [ $# -gt 0 ]; do
    case "$1" in
        -r|--repository) repository=${2:?--repository needs a value}; shift 2 ;;
        -t|--tag) tag=${2:?--tag needs a value}; shift 2 ;;
        --no-latest) latest=0; shift ;;
        --immutable) immutable=(--immutable); latest=0; shift ;;
        --kms-key) kms=(--kms-key "${2:?--kms-key needs a value}"); shift 2 ;;
        --registry) registry=${2:?--registry needs a value}; shift 2 ;;
        --region) region=(--region "${2:?--region needs a value}"); shift 2 ;;
        --base-image) base_image=${2:?--base-image needs a value}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build_and_push.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

if [ -z "$tag" ]; then
    tag=$(git -C "$here" rev-parse --short HEAD 2>/dev/null) || {
        echo "build_and_push.sh: not a git checkout; pass --tag" >&2; exit 2; }
fi

echo "building $repository:$tag for linux/amd64 ..." >&2
docker build --platform linux/amd64 --network host \
    --build-arg "BASE_IMAGE=$base_image" --build-arg "GIT_COMMIT=$tag" \
    -t "$repository:$tag" "$here" >&2

if [ -n "$registry" ]; then
    host=$registry
    if [ -n "${REGISTRY_USERNAME:-}" ]; then
        printf '%s' "${REGISTRY_PASSWORD:?REGISTRY_PASSWORD is not set}" |
            docker login --username "$REGISTRY_USERNAME" --password-stdin "$host" >&2
    fi
else
    uri=$("$deploy" ecr --repository "$repository" ${immutable[@]+"${immutable[@]}"} \
        ${kms[@]+"${kms[@]}"} ${region[@]+"${region[@]}"})
    host=${REGISTRY_OVERRIDE:-${uri%%/*}}
    "$deploy" ecr-password ${region[@]+"${region[@]}"} |
        docker login --username AWS --password-stdin "$host" >&2
fi

target="$host/$repository"
docker tag "$repository:$tag" "$target:$tag"
docker push "$target:$tag" >&2
if [ "$latest" = 1 ]; then
    docker tag "$repository:$tag" "$target:latest"
    docker push "$target:latest" >&2
fi
echo "$target:$tag"
