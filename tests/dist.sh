#!/usr/bin/env bash
# `make dist`: release binaries with TLS for Linux (x86_64, aarch64; static
# musl) and macOS (x86_64, arm64, and a universal binary of both), built with
# cargo-zigbuild and Zig, each packed as selfheal-VERSION-TARGET.tar.gz with
# README.md, LICENSE, CHANGELOG.md, install.sh and contrib/, plus SHA256SUMS,
# in target/dist/ (or $DIST_OUT). Reproducible: the date is the commit's
# (SOURCE_DATE_EPOCH), build paths are remapped, tar entries are sorted with
# fixed owners and times, gzip stores no name or time.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${DIST_OUT:-target/dist}
build=${DIST_BUILD:-target/dist-build}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SELFHEAL_COMMIT=${SELFHEAL_COMMIT:-$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)}
# Rust's own default for arm64; x86_64 gets the same. Without it Zig picks 13.0.
export MACOSX_DEPLOYMENT_TARGET=11.0

cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
# The crates' own paths in panic messages short (`/r/ring-0.17.14/…`: 4 KiB),
# as `make static` has them; the rest as before.
remap="--remap-path-prefix=$PWD=/selfheal --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$rustup_home=/rustup --remap-path-prefix=$cargo_home/registry/src/index.crates.io-1949cf8c6b5b557f=/r"
# Less inlining, as `make static` (Makefile: SMALL).
small="-C llvm-args=-inline-threshold=0"
linux="-C relocation-model=static -C target-feature=+crt-static $small $remap"
# std asks for libiconv on macOS; nothing uses it: only libSystem stays.
macos="-C link-arg=-Wl,-dead_strip_dylibs $small $remap"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS=$linux
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS=$linux
export CARGO_TARGET_X86_64_APPLE_DARWIN_RUSTFLAGS=$macos
export CARGO_TARGET_AARCH64_APPLE_DARWIN_RUSTFLAGS=$macos

command -v cargo-zigbuild >/dev/null 2>&1 ||
  { echo "dist: cargo-zigbuild is missing: pip install ziglang==0.15.2 cargo-zigbuild==0.24.1" >&2; exit 1; }

targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin)
# (The macOS builds warn that xcrun is missing: Zig brings the libSystem
# stubs the linker needs, so no SDK is required.)
for t in "${targets[@]}"; do
  echo "dist: building $t"
  cargo zigbuild --quiet --locked --release --target "$t" --target-dir "$build"
done
# No unwind tables in the x86_64 Linux binary, as `make static` (Makefile:
# panic = "abort" never unwinds; 230 KiB), nor the exception tables only an
# unwinder reads (6 KiB), nor the compilers' names. Debian's objcopy reads
# x86 ELF only; the aarch64 binary keeps them (it is 1.7 MiB).
objcopy --remove-section=.eh_frame --remove-section=.eh_frame_hdr \
  --remove-section=.gcc_except_table --remove-section=.comment \
  "$build/x86_64-unknown-linux-musl/release/selfheal"
echo "dist: building universal2-apple-darwin (cargo-zigbuild's lipo)"
cargo zigbuild --quiet --locked --release --target universal2-apple-darwin --target-dir "$build"

rm -rf "$out" "$build/stage"
mkdir -p "$out" "$build/stage"
for t in "${targets[@]}" universal2-apple-darwin; do
  name="selfheal-$version-$t"
  stage="$build/stage/$name"
  mkdir -p "$stage"
  cp "$build/$t/release/selfheal" "$stage/selfheal"
  cp README.md LICENSE CHANGELOG.md install.sh "$stage/"
  cp -R contrib "$stage/contrib"
  chmod -R u+rwX,go+rX,go-w "$stage"
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    -C "$build/stage" -cf - "$name" | gzip -9 -n >"$out/$name.tar.gz"
done
(cd "$out" && sha256sum -- *.tar.gz >SHA256SUMS)

echo "dist: selfheal $version ($SELFHEAL_COMMIT, date $(date -u -d "@$SOURCE_DATE_EPOCH" +%F)) in $out:"
for t in "${targets[@]}" universal2-apple-darwin; do
  size=$(stat -c %s "$build/$t/release/selfheal")
  printf '  %-28s %9d bytes (%s MiB)\n' "$t" "$size" "$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }')"
done
bash tests/dist-check.sh "$build" "$version"
