# Oaken: `make serve` to run a site, `make test` to run the tests.

SWIFT ?= swift
DATA ?= data
# What building and testing need, beyond Swift itself (python3 runs the corpus generator).
APT_PACKAGES := pkg-config libsqlite3-dev libxml2-dev libpoppler-glib-dev python3
# What the benchmarks compare against.
BENCH_APT_PACKAGES := openssl poppler-utils sqlite3 wrk

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
	.build/release/oaken index corpus/sample --data $(DATA) --visibility public
	.build/release/oaken check --quick --data $(DATA)
	.build/release/oaken stats --data $(DATA)
	.build/release/oaken search photosynthesis --data $(DATA) --limit 3
	@echo
	@echo "The site is in $(DATA)/, with the sample corpus indexed. Try:"
	@echo "  .build/release/oaken search 'quantum OR relativity' --data $(DATA)"
	@echo "  .build/release/oaken index FOLDER --data $(DATA) --visibility public"

bench: bench-deps release
	python3 bench/run.py

clean:
	rm -rf .build
