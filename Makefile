# Everything here needs only Go: tools come from tools/go.mod.

GO ?= go
TEMPORAL := $(CURDIR)/.bin/temporal

# Integration tests and `drover dev` run the Temporal dev server from here.
export DROVER_TEMPORAL_BIN := $(TEMPORAL)

.PHONY: run test bench lint sim build temporal

# run: the sandbox: Temporal dev server, simulated regions, example app
run: $(TEMPORAL)
	$(GO) run ./starter dev

# test: every test, with the race detector
test: $(TEMPORAL)
	$(GO) test -race -count=1 -timeout 12m ./...

# bench: every benchmark once; each prints its own figures
bench: $(TEMPORAL)
	$(GO) test -run '^$$' -bench . -benchtime 1x -benchmem -count 1 -timeout 30m ./...

# lint: gofmt, go vet and staticcheck
lint:
	@unformatted="$$($$($(GO) env GOROOT)/bin/gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt -w these files:"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet ./...
	$(GO) tool -modfile=tools/go.mod staticcheck ./...

# sim: the simulated AWS regions alone
sim:
	$(GO) run ./starter sim

# build: the drover binary, into .bin/drover
build:
	$(GO) build -o .bin/drover ./starter

# temporal: the Temporal CLI pinned in tools/go.mod, into .bin/temporal
temporal: $(TEMPORAL)

# Rebuilt only when missing or older than the pin. The first build takes
# several minutes; the rename keeps a half-written binary from being used.
$(TEMPORAL): tools/go.mod tools/go.sum
	@echo "Building the Temporal CLI into $@ (the first build takes several minutes)"
	@mkdir -p $(@D)
	$(GO) build -modfile=tools/go.mod -o $@.building github.com/temporalio/cli/cmd/temporal
	@mv -f $@.building $@
