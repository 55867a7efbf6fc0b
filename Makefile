# Oaken: `make serve` to run a site, `make test` to run the tests.

SWIFT ?= swift
DATA ?= data
PORT ?= 8080
# The OAE 1.2 web UI that `make serve` fetches (3akai-ux at its 1.2.0 release commit).
UI ?= .ui/3akai-ux
UI_COMMIT := 863c55222
# What building and testing need, beyond Swift itself (python3 runs the corpus generator).
APT_PACKAGES := pkg-config libsqlite3-dev libxml2-dev libpoppler-glib-dev python3 git
# What the benchmarks compare against.
BENCH_APT_PACKAGES := openssl poppler-utils sqlite3 wrk

.PHONY: deps bench-deps build release test serve ui bench clean

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

ui:
	@scripts/fetch-ui $(UI) $(UI_COMMIT)

serve: release
	.build/release/oaken index corpus/sample --data $(DATA) --visibility public
	.build/release/oaken check --quick --data $(DATA)
	.build/release/oaken search photosynthesis --data $(DATA) --limit 3
	@scripts/fetch-ui $(UI) $(UI_COMMIT) || echo "(the UI could not be fetched: serving the API alone)"
	@echo
	@echo "Point a browser at http://localhost:$(PORT)/ (the API answers there too)."
	@echo "Stop the server with Ctrl-C."
	.build/release/oaken serve --data $(DATA) --port $(PORT) $$( [ -d $(UI)/dev ] && echo --ui $(UI) )

bench: bench-deps release
	python3 bench/run.py

clean:
	rm -rf .build
