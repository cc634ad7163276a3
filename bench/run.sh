#!/usr/bin/env bash
# Runs the benchmarks of bench/main.go and rewrites the results section of
# docs/benchmarks.md. "make bench" calls it after building both binaries with
# the same flags: bin/buildctl (ours) and $REFERENCE_DIR/buildctl and
# $REFERENCE_DIR/buildkitd (BuildKit's, from "make reference").
#
# Environment: REFERENCE_DIR (required), BENCH_RUNS (default 7), BENCH_DOC
# (default docs/benchmarks.md; empty prints to stdout only), BENCH_ONLY
# (comma-separated workload names, default all).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

: "${REFERENCE_DIR:?set REFERENCE_DIR to the folder that make reference writes}"
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root to run buildkitd and a mount namespace" >&2; exit 1; }
command -v runc >/dev/null || { echo "bench: runc not found in PATH" >&2; exit 1; }

args=(
	-ours bin/buildctl
	-reference "$REFERENCE_DIR/buildctl"
	-buildkitd "$REFERENCE_DIR/buildkitd"
	-runs "${BENCH_RUNS:-7}"
	-buildkit-version "$(basename "$REFERENCE_DIR")"
	-doc "${BENCH_DOC-docs/benchmarks.md}"
)
[ -z "${BENCH_ONLY:-}" ] || args+=(-only "$BENCH_ONLY")

exec go run ./bench "${args[@]}"
