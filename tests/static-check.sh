#!/usr/bin/env bash
# Checks the release binary: statically linked, at most 2 MiB, and it runs.
set -euo pipefail
bin=${1:-target/x86_64-unknown-linux-musl/release/selfheal}
max=$((2 * 1024 * 1024))
size=$(stat -c %s "$bin")
if readelf -l "$bin" | grep -q 'INTERP'; then
  echo "static-check: $bin asks for a dynamic loader" >&2
  exit 1
fi
if readelf -d "$bin" 2>/dev/null | grep -q 'NEEDED'; then
  echo "static-check: $bin needs shared libraries" >&2
  exit 1
fi
if [ "$size" -gt "$max" ]; then
  echo "static-check: $bin is $size bytes, over $max" >&2
  exit 1
fi
"$bin" --version
echo "static-check: ok: statically linked, $size bytes"
