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

.PHONY: all build run test vet fuzz fuzz-short bench clean lab lab-down lab-bench

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

# CI's brief run counts executions, not seconds: a duration-based -fuzztime
# can end in a spurious "context deadline exceeded" with Go 1.26
# (golang/go#75804, fixed in Go 1.27).
fuzz-short:
	$(MAKE) fuzz FUZZTIME=20000x

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem -benchtime 1x ./fsm/
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./zone/ ./dnsserver/
	$(GO) test -tags $(TAGS) -run '^$$' -bench Import100k -benchtime 1x ./conformance/

# The L2 lab for a person (root): N nodes (3 or 5) and a client in network
# namespaces on one bridge with no uplink, the VIP on the leader. Prints the
# one-liners (deploy/lab/lab.sh status|dig|vip|kill|stop|cont|term|partition|heal).
N ?= 3
lab: build
	deploy/lab/lab.sh up $(N)

lab-down:
	deploy/lab/lab.sh down

# The lab's figures (kill -9 failover p50/max, SIGTERM gap, minority write
# refusal, convergence after a partition) with more repetitions than make
# test (root, about 2 minutes). The full log goes to bin/lab-bench.log and
# every node's log to bin/lab-logs/; the table, dated, is printed at the end
# and kept in bin/lab-figures.txt.
lab-bench: build
	@echo "lab-bench: running the L2 lab with RESOLVX_LAB_BENCH=1 (log: bin/lab-bench.log)"
	@rm -rf bin/lab-figures.txt bin/lab-logs; \
	RESOLVX_LAB_BENCH=1 RESOLVX_BIN=$(CURDIR)/$(BIN) RESOLVX_LAB_FIGURES=$(CURDIR)/bin/lab-figures.txt \
		RESOLVX_LAB_LOGS=$(CURDIR)/bin/lab-logs \
		$(GO) test -tags $(TAGS) -count=1 -timeout 40m -v ./lab/ > bin/lab-bench.log 2>&1; rc=$$?; \
	grep -E '^\s*--- (PASS|FAIL|SKIP)|^(ok|FAIL)\s' bin/lab-bench.log; \
	cat bin/lab-figures.txt 2>/dev/null; exit $$rc

clean:
	rm -rf bin
