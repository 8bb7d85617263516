#!/usr/bin/env bash
# Build the image for linux/amd64 (SageMaker's platform) and push it to Amazon ECR, or to
# another registry. Prints the pushed image URI on the last line.
#
# ECR: region and account come from boto3's configuration (profile, environment); the
# repository is created if missing (immutable tags, scan on push, encryption, a lifecycle
# policy); Docker logs in with a token from boto3 (no AWS CLI needed). AWS_ENDPOINT_URL is
# honoured as boto3 does. The image is pushed as a Docker v2 manifest, without provenance or
# SBOM attestations (SageMaker refuses image indexes), and the pushed manifest is checked.
# Needs: docker, the attrition-deploy CLI (pip install -e . from the clone; PYTHON names the Python
# it is installed in, default python3), git (for the default tag).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: build_and_push.sh [options]
  -r, --repository NAME   repository name (default attrition-sagemaker)
  -t, --tag TAG           image tag (default: the git commit, short)
      --allow-dirty       build from uncommitted changes under container/; the tag gets -dirty
      --latest            also push :latest (needs a repository with mutable tags: --mutable)
      --mutable           create the ECR repository with mutable tags (default: immutable)
      --keep N            ECR lifecycle policy: keep the newest N images (default 30)
      --kms-key ARN       encrypt a new ECR repository with this KMS key (default AES256)
      --registry HOST     push to this registry instead of ECR (no AWS calls); log in first,
                          or set REGISTRY_USERNAME and REGISTRY_PASSWORD
      --region REGION     AWS region (default: boto3's configuration)
      --profile NAME      AWS profile (default: boto3's configuration)
      --base-image IMAGE  base image (default python:3.11-slim-bookworm)
      --dry-run           print the commands and the AWS requests; build and push nothing
  -h, --help              this text
Environment: REGISTRY_OVERRIDE=HOST pushes to HOST while still using ECR for the repository
and the login token (for testing against a local registry).
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deploy=("${PYTHON:-python3}" -m attrition_deploy)
repository=attrition-sagemaker
tag=""
allow_dirty=0
latest=0
mutable=0
ecr_args=()
aws_args=()
registry=""
dry_run=0
base_image=${BASE_IMAGE:-python:3.11-slim-bookworm}
V2_MANIFEST=application/vnd.docker.distribution.manifest.v2+json

fail() { echo "build_and_push.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        -r|--repository) repository=${2:?--repository needs a value}; shift 2 ;;
        -t|--tag) tag=${2:?--tag needs a value}; shift 2 ;;
        --allow-dirty) allow_dirty=1; shift ;;
        --latest) latest=1; shift ;;
        --mutable) mutable=1; ecr_args+=(--mutable); shift ;;
        --keep) ecr_args+=(--keep "${2:?--keep needs a value}"); shift 2 ;;
        --kms-key) ecr_args+=(--kms-key "${2:?--kms-key needs a value}"); shift 2 ;;
        --registry) registry=${2:?--registry needs a value}; shift 2 ;;
        --region) aws_args+=(--region "${2:?--region needs a value}"); shift 2 ;;
        --profile) aws_args+=(--profile "${2:?--profile needs a value}"); shift 2 ;;
        --base-image) base_image=${2:?--base-image needs a value}; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build_and_push.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [ "$latest" = 1 ] && [ "$mutable" = 0 ] && [ -z "$registry" ]; then
    fail "--latest needs --mutable: an immutable repository cannot move :latest"
fi

if [ -z "$tag" ]; then
    tag=$(git -C "$here" rev-parse --short HEAD 2>/dev/null) || fail "not a git checkout; pass --tag"
    # Only what goes into the image counts: uncommitted changes under container/.
    if [ -n "$(git -C "$here" status --porcelain -- . 2>/dev/null)" ]; then
        [ "$allow_dirty" = 1 ] || fail "container/ has uncommitted changes: commit them, or pass --allow-dirty (tag $tag-dirty)"
        tag="$tag-dirty"
    fi
fi

# BuildKit would attach provenance attestations (an OCI image index, which SageMaker refuses):
# buildx is told not to; the classic builder makes a plain Docker v2 manifest anyway.
if docker buildx version >/dev/null 2>&1; then
    build=(docker buildx build --load --provenance=false --sbom=false)
else
    build=(docker build)
fi
build+=(--platform linux/amd64 --network host --build-arg "BASE_IMAGE=$base_image"
        --build-arg "GIT_COMMIT=$tag" -t "$repository:$tag" "$here")

run() {  # a command, or under --dry-run the line that would run it
    if [ "$dry_run" = 1 ]; then printf '+ %s\n' "$*" >&2; else "$@"; fi
}

if [ -n "$registry" ]; then
    host=$registry
elif [ "$dry_run" = 1 ]; then
    "${deploy[@]}" ecr --repository "$repository" ${ecr_args[@]+"${ecr_args[@]}"} ${aws_args[@]+"${aws_args[@]}"} --dry-run >&2
    host=${REGISTRY_OVERRIDE:-"ACCOUNT.dkr.ecr.REGION.amazonaws.com"}
else
    uri=$("${deploy[@]}" ecr --repository "$repository" ${ecr_args[@]+"${ecr_args[@]}"} ${aws_args[@]+"${aws_args[@]}"})
    host=${REGISTRY_OVERRIDE:-${uri%%/*}}
fi
target="$host/$repository"

echo "building $repository:$tag for linux/amd64 ..." >&2
run "${build[@]}" >&2
if [ "$dry_run" = 0 ]; then
    if [ -n "$registry" ] && [ -n "${REGISTRY_USERNAME:-}" ]; then
        printf '%s' "${REGISTRY_PASSWORD:?REGISTRY_PASSWORD is not set}" |
            docker login --username "$REGISTRY_USERNAME" --password-stdin "$host" >&2
    elif [ -z "$registry" ]; then
        "${deploy[@]}" ecr-password ${aws_args[@]+"${aws_args[@]}"} | docker login --username AWS --password-stdin "$host" >&2
    fi
fi

run docker tag "$repository:$tag" "$target:$tag"
run docker push "$target:$tag" >&2
if [ "$latest" = 1 ]; then
    run docker tag "$repository:$tag" "$target:latest"
    run docker push "$target:latest" >&2
fi
if [ "$dry_run" = 0 ]; then
    media=$(docker manifest inspect --insecure "$target:$tag" |
        python3 -c 'import json, sys; print(json.load(sys.stdin).get("mediaType"))')
    [ "$media" = "$V2_MANIFEST" ] || fail "$target:$tag was pushed as $media, not $V2_MANIFEST: SageMaker would refuse it"
fi
echo "$target:$tag"
