#!/bin/sh
# Run an aarch64 bundle's madoguchi under qemu-user emulation on an x86_64 machine (no binfmt needed).
#
#   tests/deploy/qemu_aarch64.sh BUNDLE_DIR SYSROOT
#
# BUNDLE_DIR: a bundle built with `madoguchi bundle build --arch aarch64`.
# SYSROOT:    an arm64 Debian 12 root with python3.11, made once with (as root, Debian packages only):
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get download python3.11-minimal:arm64 libpython3.11-minimal:arm64 libpython3.11-stdlib:arm64 \
#     libc6:arm64 libexpat1:arm64 zlib1g:arm64 libssl3:arm64 libffi8:arm64 libbz2-1.0:arm64 liblzma5:arm64 \
#     libsqlite3-0:arm64 libuuid1:arm64 libncursesw6:arm64 libtinfo6:arm64 libreadline8:arm64 \
#     libgcc-s1:arm64 libstdc++6:arm64 libgomp1:arm64 libcrypt1:arm64 libnsl2:arm64 libtirpc3:arm64 \
#     libdb5.3:arm64 libportaudio2:arm64 libasound2:arm64
#   for d in *.deb; do dpkg-deb -x "$d" SYSROOT; done; dpkg --remove-architecture arm64
# and apt-get install qemu-user-static.
#
# The bundle's wheels are unpacked for aarch64 by the host pip (--platform, --target), then the aarch64
# Python runs `madoguchi --version` and imports the edge runtime (numpy, ctranslate2, onnxruntime, av).
set -eu
bundle=$1
sysroot=$2
site=$(mktemp -d /tmp/madoguchi-aarch64-site.XXXXXX)
trap 'rm -rf "$site"' EXIT
command -v qemu-aarch64-static >/dev/null || { echo "qemu-aarch64-static missing: apt-get install qemu-user-static" >&2; exit 2; }
platforms="--platform manylinux2014_aarch64"
for v in 2_17 2_24 2_26 2_27 2_28 2_31 2_34 2_35 2_36; do platforms="$platforms --platform manylinux_${v}_aarch64"; done
# shellcheck disable=SC2086
PIP_CONFIG_FILE=/dev/null python3 -m pip install -q --no-index --find-links "$bundle/wheelhouse" --only-binary=:all: \
  --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none $platforms --target "$site" "madoguchi[edge]"
run() { PYTHONPATH="$site" ORT_DISABLE_TELEMETRY=1 qemu-aarch64-static -L "$sysroot" "$sysroot/usr/bin/python3.11" "$@"; }
run -c 'import platform; print("machine:", platform.machine())'
run -c 'import sys; sys.argv = ["madoguchi", "--version"]; from madoguchi.cli import main; main()'
run -c 'import numpy, ctranslate2, onnxruntime, av, faster_whisper, edge.turn.pipeline; print("edge runtime imports: ok (ctranslate2", ctranslate2.__version__ + ", numpy", numpy.__version__ + ")")'
