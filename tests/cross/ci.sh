#!/usr/bin/env bash
# CI leg for `make cross` on a fresh Debian 12 (amd64): installs the cross
# toolchains, qemu-user-static and wine64, then runs the legs named in
# CROSS_TARGETS (default: all five). Call it from .ci/run after `make test`:
#     MCF_TEST_REQUIRE_ALL=1 tests/cross/ci.sh
# Note: gcc-multilib conflicts with the gcc-<triplet> cross compilers on
# Debian 12 (apt removes them), so i386 uses gcc-i686-linux-gnu instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

PACKAGES=(
    qemu-user-static                                   # qemu-<cpu>-static, no binfmt_misc needed
    gcc-aarch64-linux-gnu   libc6-dev-arm64-cross      # aarch64
    gcc-arm-linux-gnueabihf libc6-dev-armhf-cross      # armhf (32-bit)
    gcc-s390x-linux-gnu     libc6-dev-s390x-cross      # s390x (big-endian)
    gcc-i686-linux-gnu      libc6-dev-i386-cross       # i386 (32-bit)
    gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64 # Windows: MinGW-w64 C and C++, wine
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    tries=0
    until apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ]; then echo "apt-get failed $tries times" >&2; exit 1; fi
        echo "apt-get busy or failed; retrying in 10 s" >&2; sleep 10
    done
fi

make -j"$(nproc)" cross ${CROSS_TARGETS:+CROSS_TARGETS="$CROSS_TARGETS"}
