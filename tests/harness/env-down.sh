#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Undo tests/harness/env-up.sh: stop Xvfb by PID, remove the files and users
# it added and nothing else. Usage: env-down.sh WORK
set -u
WORK=$1
if [ -f "$WORK/xvfb.pid" ]; then
  kill "$(cat "$WORK/xvfb.pid")" 2>/dev/null
fi
if [ -f "$WORK/added-files" ]; then
  xargs -r rm -f <"$WORK/added-files"
fi
if [ -f "$WORK/added-users" ]; then
  while read -r u; do userdel -r "$u" 2>/dev/null; done <"$WORK/added-users"
fi
if [ -f "$WORK/added-group" ]; then
  groupdel "$(cat "$WORK/added-group")" 2>/dev/null
fi
rm -rf "$WORK"
true
