#!/usr/bin/env bash
# `make dist-repro`: builds the release twice from this commit, in two build
# directories, and compares the binaries. The Linux ones must be
# byte-identical; for macOS it says whether they are.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST_BUILD=target/dist-build DIST_OUT=target/dist bash tests/dist.sh >/dev/null
DIST_BUILD=target/dist-build-again DIST_OUT=target/dist-again bash tests/dist.sh >/dev/null
status=0
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin universal2-apple-darwin; do
  a=$(sha256sum <"target/dist-build/$t/release/selfheal" | cut -d' ' -f1)
  b=$(sha256sum <"target/dist-build-again/$t/release/selfheal" | cut -d' ' -f1)
  if [ "$a" = "$b" ]; then
    echo "dist-repro: $t identical ($a)"
  else
    echo "dist-repro: $t differs ($a vs $b)"
    case "$t" in *linux*) status=1 ;; esac
  fi
done
if cmp -s target/dist/SHA256SUMS target/dist-again/SHA256SUMS; then
  echo "dist-repro: the tarballs are identical too"
else
  echo "dist-repro: the tarballs differ (see SHA256SUMS)"
fi
exit "$status"
