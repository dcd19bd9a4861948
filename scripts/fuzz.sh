#!/usr/bin/env bash
# Fuzz what Plumbline reads from outside: manifest files, kubeconfig files and Argo CD Applications.
# Usage: scripts/fuzz.sh [seconds per target] [target...]
# Installs what it needs (the nightly toolchain and cargo-fuzz) on first use. The corpus grows in
# fuzz/corpus/<target> (not committed; it starts from fuzz/seeds/<target>); a crash stops the run
# with the input in fuzz/artifacts/<target>, which then becomes a test in plumbline-core.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(manifests kubeconfig argocd_import)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "seeds/$target"
  echo "fuzz: $target for ${seconds}s"
  status=0
  cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target failed (crash inputs, if any, are in fuzz/artifacts/$target)" >&2
    exit "$status"
  fi
done
