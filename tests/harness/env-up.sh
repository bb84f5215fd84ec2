#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Bring up what every test of one run shares: the polkit actions and rules
# (polkitd reads them only from fixed system folders), the test users, and
# Xvfb. Prints the path of an env file to source. Each test starts its own
# private bus, polkitd and servind (tests/integration/servin_testlib).
# Undo with tests/harness/env-down.sh WORK; it removes only what this added.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/servin-test-env.XXXXXX)}
chmod 755 "$WORK"
: >"$WORK/added-files"
: >"$WORK/added-users"

install_missing() { # SOURCE DIR NAME
  if [ ! -e "$2/$3" ]; then
    install -D -m 644 "$1" "$2/$3"
    echo "$2/$3" >>"$WORK/added-files"
  fi
}

# polkit: the actions; the group rule (unless meson install put it in
# /usr/share already); the test rule letting the plain test user read.
install_missing "$top/data/org.servin.policy" /usr/share/polkit-1/actions org.servin.policy
if [ ! -e /usr/share/polkit-1/rules.d/org.servin.rules ]; then
  install_missing "$top/data/org.servin.rules" /etc/polkit-1/rules.d org.servin.rules
fi
install_missing "$top/tests/data/org.servin.test.rules" /etc/polkit-1/rules.d org.servin.test.rules

# Test users: one plain, one in the group the rules grant everything.
if ! getent group servin >/dev/null; then
  groupadd --system servin
  echo servin >"$WORK/added-group"
fi
if ! id servin-ci-user >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh servin-ci-user
  echo servin-ci-user >>"$WORK/added-users"
fi
if ! id servin-ci-admin >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh --groups servin servin-ci-admin
  echo servin-ci-admin >>"$WORK/added-users"
fi

# Xvfb on the first free display number from 90 on.
display=""
if command -v Xvfb >/dev/null; then
  n=90
  while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
  echo $! >"$WORK/xvfb.pid"
  i=0
  until [ -S "/tmp/.X11-unix/X$n" ]; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then echo "Xvfb did not start on :$n, see $WORK/xvfb.log" >&2; exit 1; fi
    sleep 0.1
  done
  display=":$n"
fi

cat >"$WORK/env.sh" <<ENV
export SERVIN_TEST_ENV=$WORK
export DISPLAY=$display
export GSK_RENDERER=cairo
ENV
echo "$WORK/env.sh"
