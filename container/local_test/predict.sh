#!/usr/bin/env bash
# Send a payload to the local server. Usage: predict.sh FILE [CONTENT_TYPE] [ACCEPT]
#   predict.sh payload.csv                       (text/csv, answer in JSON)
#   predict.sh payload.json application/json text/csv
set -euo pipefail
source "$(dirname "$0")/common.sh"
payload=${1:?usage: predict.sh FILE [CONTENT_TYPE] [ACCEPT]}
curl --silent --show-error --fail-with-body \
    -H "Content-Type: ${2:-text/csv}" -H "Accept: ${3:-application/json}" \
    --data-binary "@$payload" "http://127.0.0.1:$PORT/invocations"
echo
