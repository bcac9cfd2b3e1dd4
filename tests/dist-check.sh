#!/usr/bin/env bash
# Checks what `make dist` built (tests/dist-check.sh BUILD_DIR VERSION):
# Linux binaries static (no interpreter, no dynamic section) and running
# (`--version`; aarch64 under qemu-user when it is installed); macOS binaries
# Mach-O of the right architectures, macOS >= 12 at most, libSystem only
# (tests/macho.py); every binary (every slice of the universal one) at most
# 2 MiB; no build path in any of them.
set -euo pipefail
build=$1
version=$2
max=$((2 * 1024 * 1024))
fail() { echo "dist-check: $*" >&2; exit 1; }

for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  bin="$build/$t/release/selfheal"
  readelf -l "$bin" | grep -q INTERP && fail "$t asks for a dynamic loader"
  readelf -d "$bin" 2>&1 | grep -q 'There is no dynamic section' || fail "$t has a dynamic section"
  [ "$(stat -c %s "$bin")" -le "$max" ] || fail "$t is over 2 MiB"
done
got=$("$build/x86_64-unknown-linux-musl/release/selfheal" --version)
case "$got" in
  "selfheal $version (x86_64-unknown-linux-musl, "*", tls)") echo "dist-check: x86_64 runs: $got" ;;
  *) fail "x86_64 --version said: $got" ;;
esac
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [ -n "$qemu" ]; then
  got=$("$qemu" "$build/aarch64-unknown-linux-musl/release/selfheal" --version)
  case "$got" in
    "selfheal $version (aarch64-unknown-linux-musl, "*", tls)") echo "dist-check: aarch64 runs under $(basename "$qemu"): $got" ;;
    *) fail "aarch64 --version said: $got" ;;
  esac
else
  echo "dist-check: aarch64 not run: no qemu-user here (apt-get install qemu-user-static)"
fi

python3 tests/macho.py "$build/x86_64-apple-darwin/release/selfheal" x86_64
python3 tests/macho.py "$build/aarch64-apple-darwin/release/selfheal" arm64
python3 tests/macho.py "$build/universal2-apple-darwin/release/selfheal" arm64 x86_64
for t in x86_64-apple-darwin aarch64-apple-darwin; do
  [ "$(stat -c %s "$build/$t/release/selfheal")" -le "$max" ] || fail "$t is over 2 MiB"
done

# No path of this machine in any binary (reproducible, and nothing to leak).
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin; do
  bin="$build/$t/release/selfheal"
  for p in "$PWD" "$HOME" "${CARGO_HOME:-$HOME/.cargo}"; do
    if strings "$bin" | grep -qF "$p/"; then
      fail "$t contains the build path $p: $(strings "$bin" | grep -F "$p/" | head -n 3)"
    fi
  done
done
echo "dist-check: ok"
