#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test suite: install what building and testing need, build,
# bring up the shared test environment, run every test under meson, and
# take the environment down again. Run as root from anywhere.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/installers/deps.sh" --test

if [ -f build/build.ninja ]; then
  meson setup --reconfigure build --prefix /usr >/dev/null
else
  meson setup build --prefix /usr
fi
meson compile -C build

envfile=$("$top/tests/harness/env-up.sh")
WORK=$(dirname "$envfile")
trap '"$top/tests/harness/env-down.sh" "$WORK"' EXIT INT TERM
# shellcheck disable=SC1090
. "$envfile"

status=0
meson test -C build --print-errorlogs --num-processes 2 "$@" || status=$?

# One closing line that any reader of the log can find.
/usr/bin/python3 - "$top/build/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
with open(sys.argv[1]) as log:
    for line in log:
        result = json.loads(line).get("result", "FAIL")
        key = result if result in counts else ("OK" if result == "EXPECTEDFAIL" else "FAIL")
        counts[key] += 1
print(f"{counts['OK']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
PY
exit $status
