#!/bin/sh
# Offline installer of a madoguchi bundle (release @RELEASE_ID@, @ARCH@, Python @PYTHON@).
#
#   sudo ./install.sh --expect-key sha256:FINGERPRINT [--prefix DIR] [--role edge|server] [--no-services]
#                     [--kiosk] [--server URL --token-file FILE --glossary-key FILE]
#
# FIRST INSTALL ONLY. Thin on purpose: it checks the Debian packages, checks every file against
# SHA256SUMS, makes the release's virtual environment from the bundled wheels (no network, hashes
# required), then hands over to `madoguchi bundle install`, which prints the signing key's fingerprint
# and the bundle digest, proceeds only if they match --expect-key (IT's paper) or you answer yes, pins
# the key, installs the packs, writes the configuration, enrolls the device and switches prefix/current.
# Updates never run this script: the installed madoguchi checks the new bundle with the key it pinned:
#   sudo /opt/madoguchi/current/venv/bin/madoguchi bundle install /media/usb/BUNDLE
set -eu

BUNDLE=$(cd "$(dirname "$0")" && pwd)
VERSION="@VERSION@"
RELEASE_ID="@RELEASE_ID@"
ARCH="@ARCH@"
PYTHON_VERSION="@PYTHON@"

prefix=/opt/madoguchi
role=edge
kiosk=0
prev=""
for arg in "$@"; do
  case "$prev" in
    --prefix) prefix=$arg ;;
    --role) role=$arg ;;
  esac
  case "$arg" in
    --prefix=*) prefix=${arg#--prefix=} ;;
    --role=*) role=${arg#--role=} ;;
    --kiosk) kiosk=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
  esac
  prev=$arg
done
case "$role" in
  edge|server) ;;
  *) echo "install.sh: --role must be edge or server (got: $role)" >&2; exit 2 ;;
esac

fail() { echo "install.sh: $*" >&2; exit 1; }

machine=$(uname -m)
[ "$machine" = "$ARCH" ] || [ "$machine-$ARCH" = "arm64-aarch64" ] \
  || fail "this bundle is for $ARCH but this machine is $machine; build one with: madoguchi bundle build --arch $machine"

# Debian packages the release needs (they cannot come from the bundle's wheels).
python=python$PYTHON_VERSION
missing=""
command -v "$python" >/dev/null 2>&1 || missing="$missing $python"
if command -v "$python" >/dev/null 2>&1; then
  "$python" -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$missing $python-venv"
fi
has_lib() { ldconfig -p 2>/dev/null | grep -q "$1" || ls /usr/lib/*/"$1"* >/dev/null 2>&1; }
if [ "$role" = edge ]; then
  has_lib libportaudio.so.2 || missing="$missing libportaudio2"
  # the last-resort machine voice for languages with no licensed neural voice (vi, ko, id, ne; es, pt until Kokoro is installed)
  command -v espeak-ng >/dev/null 2>&1 || missing="$missing espeak-ng"
fi
if [ "$kiosk" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing="$missing chromium"
fi
if [ -n "$missing" ]; then
  fail "missing Debian packages:$missing. Install them first (apt-get install$missing, from the OS image, a local mirror or .deb files on the stick), then run install.sh again"
fi

# Integrity before any bundled code runs (the signature is checked next, by madoguchi itself).
(cd "$BUNDLE" && sha256sum --quiet --strict -c SHA256SUMS) \
  || fail "the bundle is damaged (a file does not match SHA256SUMS); copy it again"

# pip must see only the bundle: no index, no configuration or PIP_* variables of this machine.
for name in $(env | sed -n 's/^\(PIP_[A-Z_]*\)=.*/\1/p'); do unset "$name"; done
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# An installed system is updated by its own madoguchi with the key it pinned, never by this script.
installed="$prefix/current/venv/bin/madoguchi"
if [ -e "$prefix/etc/bundle-signing.pub" ] || [ -e "$installed" ]; then
  fail "madoguchi is already installed in $prefix. Update it with the installed madoguchi, which checks \
this bundle with the key it trusts: sudo $installed bundle install $BUNDLE --prefix $prefix"
fi

# First install: the new release's own environment runs the installer.
venv="$prefix/releases/$RELEASE_ID/venv"
extras=$role
mkdir -p "$prefix/releases/$RELEASE_ID"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv" || fail "cannot create $venv ($python -m venv failed)"
requirements="$BUNDLE/wheelhouse/requirements-$extras.txt"
[ -f "$requirements" ] || fail "$requirements is missing: build the bundle again with this madoguchi"
"$venv/bin/python" -m pip install -q --no-index --find-links "$BUNDLE/wheelhouse" --require-hashes \
  -r "$requirements" || fail "installing the bundled wheels into $venv failed (see the pip output above)"
exec "$venv/bin/madoguchi" bundle install "$BUNDLE" "$@"
