# selfheal — see README.md. `make demo` shows it working, `make test` runs the tests.
CARGO  ?= cargo
MUSL   := x86_64-unknown-linux-musl
STATIC := target/$(MUSL)/release/selfheal

.PHONY: build release static test demo lint bench fuzz clean

build:
	$(CARGO) build

release:
	$(CARGO) build --release

static:
	$(CARGO) build --release --target $(MUSL)
	@ls -l $(STATIC) | awk '{printf "static binary: %s, %d bytes\n", $$9, $$5}'

test:
	$(CARGO) test --all-targets

demo: release
	bash tests/demo.sh target/release/selfheal

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	shellcheck install.sh .ci/run tests/*.sh tests/fixtures/*.sh

bench: static
	bash tests/bench.sh $(STATIC)

clean:
	$(CARGO) clean
