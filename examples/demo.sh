#!/usr/bin/env bash
# Builds examples/hello with buildctl against a buildkitd that this script
# starts on a socket in a temporary folder, prints the files the build wrote,
# then stops the daemon by its pid and removes its state.
#
# usage: BUILDCTL=bin/buildctl BUILDKITD=/path/to/buildkitd examples/demo.sh
#   DEMO_OUTPUT  folder the build result is written to (default: bin/demo-output)
# "make demo" sets both binaries. Needs root, runc and /bin/busybox (static).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[ -n "${BUILDCTL:-}" ] || die "BUILDCTL is not set; run \"make demo\""
[ -n "${BUILDKITD:-}" ] || die "BUILDKITD is not set; run \"make demo\""
buildctl=$(realpath "$BUILDCTL")
buildkitd=$(realpath "$BUILDKITD")
output=$(realpath -m "${DEMO_OUTPUT:-$repo/bin/demo-output}")
[ -x "$buildctl" ] || die "buildctl not found or not executable: $buildctl"
[ -x "$buildkitd" ] || die "buildkitd not found or not executable: $buildkitd"
[ "$(id -u)" -eq 0 ] || die "buildkitd with the OCI worker needs root; run as root"
command -v runc >/dev/null || die "runc not found in PATH (apt-get install runc)"
[ -x /bin/busybox ] || die "/bin/busybox not found (apt-get install busybox-static)"

work=$(mktemp -d /tmp/buildctl-demo.XXXXXX)
addr="unix://$work/buildkitd.sock"
daemon_pid=""

stop_daemon() {
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		echo "demo: stopping buildkitd (pid $daemon_pid)"
		kill -TERM "$daemon_pid"
		for _ in $(seq 1 100); do
			kill -0 "$daemon_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$daemon_pid" 2>/dev/null && kill -KILL "$daemon_pid"
		wait "$daemon_pid" 2>/dev/null || true
	fi
	# The daemon's root has overlay mounts only while the daemon runs.
	rm -rf "$work"
}
trap stop_daemon EXIT

echo "demo: starting buildkitd on $addr"
"$buildkitd" --addr "$addr" --root "$work/root" \
	--oci-worker=true --containerd-worker=false >"$work/buildkitd.log" 2>&1 &
daemon_pid=$!

# The daemon is ready once it lists its workers.
for i in $(seq 1 300); do
	"$buildctl" --addr "$addr" debug workers >/dev/null 2>&1 && break
	if ! kill -0 "$daemon_pid" 2>/dev/null || [ "$i" -eq 300 ]; then
		cat "$work/buildkitd.log" >&2
		die "buildkitd did not start; its log is above"
	fi
	sleep 0.2
done
"$buildctl" --addr "$addr" debug workers

# The context is examples/hello plus the host's static busybox, copied in
# so that the repository does not carry a binary.
context="$work/context"
cp -r "$repo/examples/hello" "$context"
cp /bin/busybox "$context/busybox"

rm -rf "$output"
echo "demo: building examples/hello into $output"
"$buildctl" --addr "$addr" build \
	--frontend dockerfile.v0 \
	--local context="$context" \
	--local dockerfile="$context" \
	--output type=local,dest="$output" \
	--progress plain

echo "demo: result in $output"
for f in "$output"/*; do
	printf '%s: %s\n' "${f#"$output"/}" "$(cat "$f")"
done
