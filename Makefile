# selfheal — see README.md. `make demo` shows it working, `make test` runs the tests.
CARGO  ?= cargo
MUSL   := x86_64-unknown-linux-musl
STATIC := target/$(MUSL)/release/selfheal

FUZZ_SECONDS ?= 60

.PHONY: build release static dist dist-repro test demo lint bench fuzz real docs clis clean

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# The x86_64 Linux release binary. Linked by Zig (as `make dist` does) when
# cargo-zigbuild is installed — 39 KiB smaller than GNU ld's link of the same
# code — else with musl-gcc. Then its unwind tables go (230 KiB, 11% of the
# binary): with panic = "abort" nothing unwinds, and a stripped binary's
# backtrace has no names anyway; a panic still prints its message and aborts
# (tried: `RUST_BACKTRACE=1` prints an empty backtrace, exit 134).
# The crates' paths in panic messages, short: `/r/ring-0.17.14/src/…`, not
# `/cargo/registry/src/index.crates.io-1949cf8c6b5b557f/…` (8 KiB).
REGISTRY = $(or $(CARGO_HOME),$(HOME)/.cargo)/registry/src/index.crates.io-1949cf8c6b5b557f
REMAP = --remap-path-prefix=$(REGISTRY)=/r
# LLVM inlines less than `opt-level = "z"` alone (6 KiB smaller; a healthy
# check runs 0.4 % more instructions: callgrind, 4.17 M → 4.19 M).
SMALL = -C llvm-args=-inline-threshold=0

static:
	@if command -v cargo-zigbuild >/dev/null 2>&1; then \
		CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C relocation-model=static -C target-feature=+crt-static $(REMAP) $(SMALL)" \
			$(CARGO) zigbuild --release --target $(MUSL); \
	else \
		$(CARGO) build --release --target $(MUSL); \
	fi
	objcopy --remove-section=.eh_frame --remove-section=.eh_frame_hdr \
		--remove-section=.gcc_except_table --remove-section=.comment $(STATIC)
	@ls -l $(STATIC) | awk '{printf "static binary: %s, %d bytes\n", $$9, $$5}'

# Release tarballs for Linux and macOS in target/dist/, checked (tests/dist.sh).
# Needs: pip install ziglang==0.15.2 cargo-zigbuild==0.24.1, and the rustup
# targets (.ci/run installs both).
dist:
	bash tests/dist.sh

# Two `make dist` builds of this commit: Linux binaries must be identical.
dist-repro:
	bash tests/dist-repro.sh

test:
	$(CARGO) test --all-targets

# The real agent CLIs that tests/clis.rs runs (offline here: each must be
# recognised as unable to work), pinned, from the npm registry.
CLIS = @anthropic-ai/claude-code@2.1.197 @openai/codex@0.171.0 @google/gemini-cli@0.61.0
clis:
	mkdir -p target/agent-clis
	cd target/agent-clis && { [ -f package.json ] || npm init -y >/dev/null; } && \
		npm install --no-audit --no-fund --loglevel=error $(CLIS)

demo: release
	bash tests/demo.sh target/release/selfheal

# The README's tables of keys and contrib/selfheal.env.example, made anew
# from the keys' declarations (src/config/keys.rs, src/channel/*.rs).
docs:
	SELFHEAL_BLESS=1 $(CARGO) test --test integration docs::

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	shellcheck install.sh .ci/run tests/*.sh tests/fixtures/*.sh tests/fixtures/bin/*

# The real OpenClaw gateway, made unstartable by a bad key, healed by one
# check (tests/real.sh; installs it from the npm registry; about a minute).
real: release
	bash tests/real.sh target/release/selfheal

bench: static
	bash tests/bench.sh $(STATIC)

# cargo-fuzz needs a nightly toolchain; without one, the stable random-input
# smoke test of the same parsers runs for the same time.
fuzz:
	@if cargo +nightly --version >/dev/null 2>&1 && cargo +nightly fuzz --version >/dev/null 2>&1; then \
		cd fuzz && cargo +nightly fuzz run envfile -- -max_total_time=$(FUZZ_SECONDS) && \
		cargo +nightly fuzz run metrics -- -max_total_time=$(FUZZ_SECONDS) && \
		cargo +nightly fuzz run state -- -max_total_time=$(FUZZ_SECONDS); \
	else \
		echo "fuzz: no nightly toolchain with cargo-fuzz here; running tests/fuzz_smoke.rs for $(FUZZ_SECONDS)s each"; \
		FUZZ_SECONDS=$(FUZZ_SECONDS) $(CARGO) test --release --test integration fuzz_smoke; \
	fi

clean:
	$(CARGO) clean
