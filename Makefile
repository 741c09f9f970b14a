# mqstack: ZooKeeper + Kafka + EFAK, reimplemented in Go. See README.md.
SHELL   := /bin/bash
MODULES := proto storage election zkd brokerd integration
PKGS    := $(foreach m,$(MODULES),./$(m)/...)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BUILT   := $(shell date -u '+%Y-%m-%d %H:%M UTC')
LDFLAGS := -s -w -X mqstack/zkd/internal/server.revision=$(VERSION) -X "mqstack/zkd/internal/server.buildDate=$(BUILT)"
GO      ?= go
export CGO_ENABLED ?= 0

.PHONY: all build test run stop bench chaos fuzz lint interop clean

all: build

build:
	@mkdir -p bin
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/zkd ./zkd/cmd/zkd
	$(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' -o bin/brokerd ./brokerd/cmd/brokerd

# Unit, in-process, integration and (when the tools are installed) interop tests.
test: build
	$(GO) test -count=1 -timeout 20m $(PKGS)

# A standalone zkd on 2181 with its data under ./var (Ctrl-C stops it).
run: build
	@mkdir -p var/zk/data var/zk/logs
	@test -f var/zk/zoo.cfg || printf '%s\n' 'tickTime=2000' 'initLimit=10' 'syncLimit=5' \
		'dataDir=$(CURDIR)/var/zk/data' 'clientPort=2181' 'admin.enableServer=false' \
		'4lw.commands.whitelist=*' 'metricsProvider.httpPort=7000' > var/zk/zoo.cfg
	@echo "zkd on 127.0.0.1:2181 (data in var/zk/data); try: bin/zkd cli -server 127.0.0.1:2181 ls /"
	@echo $$$$ > var/zk/zkd.pid; exec bin/zkd start-foreground var/zk/zoo.cfg

# Stops what `make run` started (its pid is in var/zk/zkd.pid).
stop:
	@if [ -f var/zk/zkd.pid ] && kill -TERM $$(cat var/zk/zkd.pid) 2>/dev/null; then echo "stopped zkd $$(cat var/zk/zkd.pid)"; else echo "nothing to stop"; fi
	@rm -f var/zk/zkd.pid

# Benchmarks: Go benchmarks plus zkd against Apache ZooKeeper (Debian package) side by side.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./proto/... ./storage/...
	$(GO) run ./integration/cmd/zkbench -zkd bin/zkd
	$(GO) run ./integration/cmd/zkbench -zkd bin/zkd -ensemble 3

# Linearizability under faults: LIN_SCHEDULES randomized schedules (default
# 200; make test runs 20) from seed LIN_FIRST_SEED, then a summary line.
LIN_SCHEDULES ?= 200
LIN_FIRST_SEED ?= 1
chaos: build
	@mkdir -p var
	set -o pipefail; LIN_SCHEDULES=$(LIN_SCHEDULES) LIN_FIRST_SEED=$(LIN_FIRST_SEED) LIN_OUT=$(CURDIR)/var \
	  $(GO) test -count=1 -timeout 3h -v -run '^TestEnsembleLinearizable$$' ./integration/ \
	  | tee var/chaos.log | grep -E '^(linearizability:|--- |ok|FAIL|panic)|seed [0-9]+:'; \
	  rc=$$?; echo "full output in var/chaos.log"; exit $$rc

# Each fuzz target for FUZZTIME (default 20s).
FUZZTIME ?= 20s
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

lint:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

# Interop tests only, with the Debian tools required.
interop: build
	REQUIRE_INTEROP=1 $(GO) test -count=1 -timeout 20m -run 'Interop|Apache|Kazoo|ZkCli' ./integration/...

clean:
	rm -rf bin var
