# resolvx — build, run, test. Every build uses -tags hashicorpmetrics so
# raft's metrics reach the Prometheus sink.
export GOTOOLCHAIN := local
GO        ?= go
TAGS      := hashicorpmetrics
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/resolvx
FUZZTIME  ?= 30s
PKGS      := ./...

.PHONY: all build run test vet fuzz fuzz-short bench clean

all: build

build:
	$(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/resolvx

# One node with the embedded defaults: DNS 127.0.0.1:1053, API 127.0.0.1:8080,
# cluster 127.0.0.1:7946, data in ./data.
run: build
	./$(BIN) server

vet:
	$(GO) vet -tags $(TAGS) $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# Every test: unit tables, FSM, in-process clusters, whole binaries on
# loopback, and each fuzz target's seed corpus. Privileged lab tests run as
# root; without root they fail unless RESOLVX_SKIP_PRIVILEGED=1.
test: vet build
	RESOLVX_BIN=$(CURDIR)/$(BIN) $(GO) test -tags $(TAGS) -count=1 -timeout 20m $(PKGS)

# Each fuzz target for FUZZTIME (default 30s).
fuzz:
	@grep -rn --include='*_test.go' '^func Fuzz' . | while IFS=: read -r file _ decl; do \
		name=$$(echo "$$decl" | sed -E 's/func (Fuzz[A-Za-z0-9_]*).*/\1/'); \
		dir=$$(dirname "$$file"); \
		echo "== $$dir $$name"; \
		$(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) "$$dir" || exit 1; \
	done

fuzz-short:
	$(MAKE) fuzz FUZZTIME=5s

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem -benchtime 1x ./fsm/
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./zone/ ./dnsserver/

clean:
	rm -rf bin
