# The two commands: `make run` starts the product, `make test` runs every test.
GO      ?= go
BIN     := bin/crm
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/crmkit/crm/core/app.Version=$(VERSION)
# Every package of every module in go.work (the core, plugins/proto,
# plugins/sdk, plugins/sdk/sdktest, examples/loyalty): in workspace mode
# `./...` covers only the module at the root.
PKGS    := github.com/crmkit/crm/...

.PHONY: build run test fuzz bench bench-compare bench-scaleout lint clean proto proto-tools proto-check vendor

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/crm

run: build
	./$(BIN) serve --config crm.hcl

# Alongside the main run, the packages that consume the change feed, the
# store (its planner, counters and search run concurrent writers) and the
# record service run three more times, under the load of the others: their
# tests must pass every time, not just alone. Their output comes after.
STRESS_PKGS := ./core/rules/ ./core/plugins/ ./core/feed/ ./core/store/ ./core/records/

test: lint
	@log=$$(mktemp); \
	$(GO) test -count=3 -timeout 15m $(STRESS_PKGS) >$$log 2>&1 & stress=$$!; \
	$(GO) test -count=1 -timeout 15m $(PKGS); rc=$$?; \
	wait $$stress; src=$$?; \
	echo "--- go test -count=3 $(STRESS_PKGS) (alongside the run above)"; cat $$log; rm -f $$log; \
	[ $$rc -eq 0 ] && [ $$src -eq 0 ]
	$(MAKE) fuzz

# A short run of every fuzz target; the seed corpora live in testdata/fuzz.
# Each target runs a fixed number of inputs, not a fixed time: with a
# duration, Go 1.26's fuzz coordinator can fail a target with a bare
# "context deadline exceeded" as the time runs out, having found nothing
# (go.dev/issue/75804, fixed in Go 1.27). The counts are sized so that each
# target runs a few seconds on a loaded 2-core machine; FUZZX multiplies
# them (`make fuzz FUZZX=10` for a longer run).
FUZZX ?= 1
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$$((20000*$(FUZZX)))x ./config/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeInput$$' -fuzztime=$$((50000*$(FUZZX)))x ./core/schema/
	$(GO) test -run='^$$' -fuzz='^FuzzCompileFilter$$' -fuzztime=$$((10000*$(FUZZX)))x ./core/store/
	$(GO) test -run='^$$' -fuzz='^FuzzWhere$$' -fuzztime=$$((2000*$(FUZZX)))x ./core/store/sqlfilter/
	$(GO) test -run='^$$' -fuzz='^FuzzCompileRule$$' -fuzztime=$$((5000*$(FUZZX)))x ./core/rules/
	$(GO) test -run='^$$' -fuzz='^FuzzLoadTests$$' -fuzztime=$$((20000*$(FUZZX)))x ./config/
	$(GO) test -run='^$$' -fuzz='^FuzzRuleTests$$' -fuzztime=$$((10000*$(FUZZX)))x ./core/rules/
	$(GO) test -run='^$$' -fuzz='^FuzzMoneyWords$$' -fuzztime=$$((2000*$(FUZZX)))x ./plugins/doctemplates/format/
	$(GO) test -run='^$$' -fuzz='^FuzzParseDOCX$$' -fuzztime=$$((3000*$(FUZZX)))x ./plugins/doctemplates/tmpl/
	$(GO) test -run='^$$' -fuzz='^FuzzParseHTML$$' -fuzztime=$$((5000*$(FUZZX)))x ./plugins/doctemplates/tmpl/

# Benchmarks report ratios against a baseline measured in the same run.
# bench-compare is issue 15's side-by-side table at CRM_BENCH_N contacts
# (100k; CRM_BENCH_N=1000000 for the 1M figures, which take most of an
# hour): crm serve, PocketBase v0.36.0 (skipped with a line saying why if
# it cannot be installed) and raw Badger.
# BenchmarkDocuments runs 5 documents of each kind: a PDF takes a converter
# seconds, so a time-based run would make one or two.
PB_BIN := $(CURDIR)/bin/pocketbase-v0.36.0/base
bench: bench-compare bench-scaleout
	$(GO) test -run='^$$' -bench=. -benchtime=2s -timeout 30m ./core/store/ ./core/records/ ./core/api/ ./core/rules/ ./core/plugins/ ./core/hub/
	$(GO) test -run='^$$' -bench='^BenchmarkCallEvents$$' -benchtime=2s -timeout 10m ./plugins/calltracking/
	$(GO) test -run='^$$' -bench='^BenchmarkDocuments$$' -benchtime=5x -timeout 10m ./plugins/doctemplates/
	$(GO) test -run='^$$' -bench='^BenchmarkKanbanFirstPaint$$' -benchtime=5x -timeout 10m ./web/browsertest/

bench-compare:
	@[ -x $(PB_BIN) ] || GOBIN=$(dir $(PB_BIN)) $(GO) install github.com/pocketbase/pocketbase/examples/base@v0.36.0 || \
	  echo "could not install PocketBase v0.36.0; the table will have no PocketBase column"
	CRM_BENCH_POCKETBASE=$(PB_BIN) $(GO) test -run='^$$' -bench='^BenchmarkCompare$$' -benchtime=1x -timeout 90m ./core/benchmarks/

# bench-scaleout is issue 20's figures: creates/s and list p50/p99 on
# Badger, on PostgreSQL with one node and with two nodes on one database,
# as ratios measured in the same run (CRM_BENCH_SCALE_N contacts, 5000).
# Without PostgreSQL installed it prints why and skips.
bench-scaleout:
	$(GO) test -run='^$$' -bench='^BenchmarkScaleOut$$' -benchtime=1x -timeout 30m ./core/benchmarks/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf bin

# The web UI's npm packages, fetched with `npm pack` at the versions pinned
# in web/scripts/vendor-*.sh and committed under web/static/vendor/. Only
# needed to change a version; `go build` and `make run` never need npm.
vendor:
	@for s in web/scripts/vendor-*.sh; do sh "$$s" || exit 1; done

# Generated protocol code (plugins/proto/crmv1) is committed; `make proto`
# regenerates it with pinned tools and `make proto-check` (run by CI) fails
# when the committed code is not what the .proto gives. protoc comes from
# Debian's protobuf-compiler (apt-get install -y protobuf-compiler); the Go
# generators are installed at exact versions into bin/tools.
PROTOC_VERSION          := 3.21.12
PROTOC_GEN_GO_VERSION   := v1.36.12
PROTOC_GEN_GRPC_VERSION := v1.6.2
PROTO_TOOLS             := $(CURDIR)/bin/tools
PROTO_FILES             := plugins/proto/crm/v1/plugin.proto
PROTO_OUT               := plugins/proto/crmv1
PROTOC = PATH="$(PROTO_TOOLS):$$PATH" protoc -I plugins/proto \
	--go_opt=module=github.com/crmkit/crm --go-grpc_opt=module=github.com/crmkit/crm

proto-tools:
	@v=$$(protoc --version 2>/dev/null); if [ "$$v" != "libprotoc $(PROTOC_VERSION)" ]; then \
	  echo "make proto needs protoc $(PROTOC_VERSION) (apt-get install -y protobuf-compiler); found: $${v:-none}"; exit 1; fi
	GOBIN=$(PROTO_TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(PROTO_TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GRPC_VERSION)

proto: proto-tools
	rm -f $(PROTO_OUT)/*.pb.go
	$(PROTOC) --go_out=. --go-grpc_out=. $(PROTO_FILES)

proto-check: proto-tools
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(PROTOC) --go_out=$$tmp --go-grpc_out=$$tmp $(PROTO_FILES) || exit 1; \
	  want=$$(cd $$tmp/$(PROTO_OUT) && ls *.pb.go); have=$$(cd $(PROTO_OUT) && ls *.pb.go 2>/dev/null); \
	  if [ "$$want" != "$$have" ]; then echo "$(PROTO_OUT): generated files differ: want [$$want], have [$$have]; run make proto"; exit 1; fi; \
	  for f in $$want; do diff -u $(PROTO_OUT)/$$f $$tmp/$(PROTO_OUT)/$$f || { echo "$(PROTO_OUT)/$$f is stale: run make proto"; exit 1; }; done; \
	  echo "proto-check: $(PROTO_OUT) is up to date"

# The example third-party plugin (examples/loyalty), built as a partner
# would build theirs; it prints the plugin's SHA-256 and the block to paste
# into crm.hcl (see examples/loyalty.hcl).
.PHONY: examples
examples:
	$(GO) build -o bin/plugins/loyalty ./examples/loyalty
	@sum=$$( (sha256sum bin/plugins/loyalty 2>/dev/null || shasum -a 256 bin/plugins/loyalty) | cut -d' ' -f1 ); \
	  echo "bin/plugins/loyalty: sha256 $$sum"; echo; \
	  echo "Paste into crm.hcl (or set sha256 in examples/loyalty.hcl):"; echo; \
	  echo 'plugin "loyalty" {'; \
	  echo '  path   = "bin/plugins/loyalty"'; \
	  echo "  sha256 = \"$$sum\""; \
	  echo '  entities = ["loyalty_account"]'; \
	  echo '  read   = ["contact", "deal"]'; \
	  echo '  write  = ["loyalty_account"]'; \
	  echo '  config = { points_per = 1000, secret = "change-me-shared-with-the-till" }'; \
	  echo '}'; echo; \
	  echo "entities adds the plugin's loyalty_account (as its manifest describes it) to the schema."
