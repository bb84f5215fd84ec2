#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every benchmark once, each comparing Servin with its peers in the same
# run: run --rm against podman with runc (plus servind's and a monitor's
# memory), servin-runtime against runc, and pull + unpack against podman.
# Run as root after building into ./build. Arguments: ROUNDS (default 20).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-20}
export SERVIN_BUILD_ROOT="$top/build" SERVIN_SOURCE_ROOT="$top"

echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$top/tests/bench/bench_run.py" "$rounds"
/usr/bin/python3 "$top/tests/bench/bench_runtime.py" -n "$rounds" --build-root "$top/build"
/usr/bin/python3 "$top/tests/bench/bench_pull.py" -n 5
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
