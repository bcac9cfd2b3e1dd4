#!/usr/bin/env bash
# `make bench`: see tests/bench.py. Results go to stdout and target/bench.md.
set -euo pipefail
bin=${1:-target/x86_64-unknown-linux-musl/release/selfheal}
mkdir -p target
python3 "$(dirname "$0")/bench.py" "$bin" | tee target/bench.md
