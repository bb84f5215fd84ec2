#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian packages Servin needs to build and run; with --test,
# also those its test suite needs. Run as root. Installing a package that
# ships a service (docker-registry) must not start that service, so the
# install runs under a policy-rc.d that forbids starts.
set -eu

runtime_packages="dbus dbus-daemon polkitd pkexec busybox-static runc glib-networking
  libglib2.0-0 libjson-glib-1.0-0 libarchive13 libyaml-0-2 libsoup-3.0-0 libseccomp2
  libpolkit-gobject-1-0 libnettle8 util-linux iproute2 procps ca-certificates"
build_packages="meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libglib2.0-dev-bin
  libjson-glib-dev libarchive-dev libyaml-dev libsoup-3.0-dev libseccomp-dev
  libpolkit-gobject-1-dev libzstd-dev zlib1g-dev nettle-dev libgtk-4-dev libadwaita-1-dev
  desktop-file-utils appstream gettext"
test_packages="python3 python3-pytest python3-gi docker-registry skopeo podman xvfb xauth
  imagemagick passwd zstd apache2-utils openssl debootstrap e2fsprogs at-spi2-core
  python3-pyatspi libatk-adaptor fonts-cantarell"

packages="$runtime_packages $build_packages"
if [ "${1:-}" = "--test" ]; then
  packages="$packages $test_packages"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "installers/deps.sh must run as root: it installs Debian packages with apt-get" >&2
  exit 1
fi

# Skip apt-get when everything is already installed, so repeated runs are quick.
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

added_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  added_policy=yes
fi
cleanup() { [ -z "$added_policy" ] || rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
