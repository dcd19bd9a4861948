#!/usr/bin/env bash
# Runs a test command with PLUMBLINE_TEST_CLUSTER=control-plane: each cluster test starts a real
# control plane of its own (crates/test-cluster) in a folder made here, and whatever a test left
# running (a test process killed outright, Ctrl-C) is stopped when the command ends, however it
# ends.
#   scripts/on-control-plane.sh cargo test -p plumbline-core --test sample_apps
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/control-plane.sh" build
planes=$(mktemp -d "${TMPDIR:-/tmp}/plumbline-control-planes.XXXXXX")
trap '"$root/scripts/control-plane.sh" stop-all "$planes"; rm -rf "$planes"' EXIT
trap 'exit 130' INT TERM
export PLUMBLINE_TEST_CLUSTER=control-plane PLUMBLINE_CONTROL_PLANES="$planes"
"$@"
