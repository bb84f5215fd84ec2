#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Set Servin up on this machine from the source tree and show it working.
# It installs the Debian packages and builds and installs with meson
# (prefix /usr). It starts the system bus and polkitd where none runs and
# lets the bus start servind. Then it loads the sample image, runs a
# container and lists what is there. Run as root. Safe to run again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -ne 0 ]; then
  echo "quickstart.sh must run as root: it installs packages and a system service" >&2
  exit 1
fi

step() { printf '\n==> %s\n' "$*"; }

step "Installing the Debian packages Servin needs"
"$top/installers/deps.sh"

step "Building and installing with meson (prefix /usr)"
if [ -f build/build.ninja ]; then
  meson setup --reconfigure build --prefix /usr >/dev/null
else
  meson setup build --prefix /usr
fi
meson compile -C build
meson install -C build --quiet

# The configuration is the administrator's: install the default only once.
if [ ! -e /etc/servin/config.yaml ]; then
  install -D -m 644 "$top/data/config.yaml" /etc/servin/config.yaml
fi

# Members of this group may use Servin without authenticating.
getent group servin >/dev/null || groupadd --system servin

bus_running() {
  [ -S /run/dbus/system_bus_socket ] &&
    gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.GetId >/dev/null 2>&1
}

has_owner() {
  gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}

wait_for_owner() {
  i=0
  until has_owner "$1"; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then echo "$1 did not appear on the system bus" >&2; exit 1; fi
    sleep 0.1
  done
}

step "Checking the system bus"
unset DBUS_SYSTEM_BUS_ADDRESS
if bus_running; then
  # Read the newly installed bus policy and service file.
  gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.ReloadConfig >/dev/null
  echo "The system bus is running"
else
  mkdir -p /run/dbus
  rm -f /run/dbus/pid
  dbus-daemon --system --fork
  echo "Started the system bus"
fi

step "Checking polkitd"
if has_owner org.freedesktop.PolicyKit1; then
  echo "polkitd is running"
else
  /usr/lib/polkit-1/polkitd --no-debug >/var/log/servin-polkitd.log 2>&1 &
  wait_for_owner org.freedesktop.PolicyKit1
  echo "Started polkitd"
fi

# A servind still running the binary this install replaced is stopped, so the
# bus starts the new one. Its containers keep running and are found again.
servind_pid=$(gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
  --method org.freedesktop.DBus.GetConnectionUnixProcessID org.servin.Servin1 2>/dev/null |
  sed -n 's/^(uint32 \([0-9]*\),)$/\1/p')
if [ -n "$servind_pid" ] && readlink "/proc/$servind_pid/exe" | grep -q '(deleted)$'; then
  step "Restarting servind, whose binary was replaced"
  kill -TERM "$servind_pid"
  i=0
  while has_owner org.servin.Servin1; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then echo "servind (pid $servind_pid) did not stop" >&2; exit 1; fi
    sleep 0.1
  done
fi

step "Starting servind through the system bus"
servin version

step "Making the sample image available"
servin load -i "$top/build/engine/image/servin-sample.tar"

step "Running a container from it"
servin run --rm servin/sample

step "servin ps -a"
servin ps -a

step "servin images"
servin images

printf '\nservind logs to /var/log/servin/servind.log; its settings are in /etc/servin/config.yaml.\n'
