# Oaken: `make serve` to run a site, `make test` to run the tests.

SWIFT ?= swift
DATA ?= data
# What building and testing need, beyond Swift itself.
APT_PACKAGES := pkg-config libsqlite3-dev libxml2-dev libpoppler-glib-dev
# What the benchmarks compare against.
BENCH_APT_PACKAGES := openssl poppler-utils sqlite3

.PHONY: deps bench-deps build release test serve bench clean

deps:
	@scripts/apt-ensure $(APT_PACKAGES)

bench-deps:
	@scripts/apt-ensure $(APT_PACKAGES) $(BENCH_APT_PACKAGES)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product oaken

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

serve: release
	.build/release/oaken check --quick --data $(DATA)
	.build/release/oaken stats --data $(DATA)
	@echo
	@echo "The site's data is in $(DATA)/. Store files with:"
	@echo "  .build/release/oaken put FILE... --data $(DATA)"

bench: bench-deps release
	python3 bench/run.py

clean:
	rm -rf .build
