# The two commands: `make run` starts the product, `make test` runs every test.
GO      ?= go
BIN     := bin/crm
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/crmkit/crm/core/app.Version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: build run test fuzz bench lint clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/crm

run: build
	./$(BIN) serve --config crm.hcl

test: lint
	$(GO) test -count=1 -timeout 15m ./...
	$(MAKE) fuzz

# A short run of every fuzz target; the seed corpora live in testdata/fuzz.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) ./config/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeInput$$' -fuzztime=$(FUZZTIME) ./core/schema/
	$(GO) test -run='^$$' -fuzz='^FuzzCompileFilter$$' -fuzztime=$(FUZZTIME) ./core/store/
	$(GO) test -run='^$$' -fuzz='^FuzzCompileRule$$' -fuzztime=$(FUZZTIME) ./core/rules/

# Benchmarks report ratios against a baseline measured in the same run.
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=2s -timeout 30m ./core/store/ ./core/api/ ./core/rules/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
