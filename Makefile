# mqstack: ZooKeeper + Kafka + EFAK, reimplemented in Go. See README.md.
SHELL   := /bin/bash
MODULES := proto storage election zkd brokerd eagle integration deploy/entrypoint
PKGS    := $(foreach m,$(MODULES),./$(m)/...)
# VERSION: the newest tag (without a leading v), else 0.1.0; COMMIT: the short hash, -dirty with local changes.
VERSION ?= $(or $(patsubst v%,%,$(shell git describe --tags --abbrev=0 2>/dev/null)),0.1.0)
COMMIT  := $(or $(shell git rev-parse --short HEAD 2>/dev/null),unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
BUILT   := $(shell date -u '+%Y-%m-%d %H:%M UTC')
LDFLAGS := -s -w -X mqstack/zkd/internal/server.revision=$(VERSION)-$(COMMIT) -X "mqstack/zkd/internal/server.buildDate=$(BUILT)"
GO      ?= go
export CGO_ENABLED ?= 0

.PHONY: all build test run stop dist images test-cluster bench chaos fuzz lint interop clean

all: build

build:
	@mkdir -p bin
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/zkd ./zkd/cmd/zkd
	$(GO) build -trimpath -ldflags '-s -w -X "main.version=$(VERSION) (commit $(COMMIT))"' -o bin/brokerd ./brokerd/cmd/brokerd
	$(GO) build -trimpath -ldflags '-s -w -X "main.version=$(VERSION) (commit $(COMMIT))"' -o bin/eagle ./eagle/cmd/eagle

# Unit, in-process, integration and (when the tools are installed) interop tests.
test: build
	$(GO) test -count=1 -timeout 20m $(PKGS)

# A whole cluster on this machine: three zkd (2181-2183), three brokerd
# (9092-9094) and eagle (8048) when built, configs and data under ./var/cluster.
# Stays in the foreground; Ctrl-C (or `make stop`) stops everything it started.
# MQ_PORT_OFFSET=N moves every port up by N.
run: build
	@deploy/bin/local-cluster.sh start

# Stops what `make run` started.
stop:
	@deploy/bin/local-cluster.sh stop

# dist/mqstack-$(VERSION)-linux-amd64.tar.gz: static binaries, bin/ scripts with the
# Apache names, conf/ samples, systemd units and INSTALL.md (deploy/mkdist.sh).
dist: build
	@deploy/mkdist.sh '$(VERSION)' '$(COMMIT)'

# Container images FROM scratch: mqstack/zkd, mqstack/brokerd, mqstack/eagle (deploy/docker).
images: build
	@deploy/docker/build.sh '$(VERSION)'

# The cluster tier: deploy/docker/docker-compose.yml brought up, checked, faulted and
# restarted (integration/compose_test.go), and deploy/install.sh run against three
# hosts (integration/install_test.go). Needs docker and docker-compose.
test-cluster: images dist
	MQ_TEST_CLUSTER=1 MQ_DIST=$(CURDIR)/dist/mqstack-$(VERSION)-linux-amd64.tar.gz \
	  $(GO) test -count=1 -timeout 25m -v -run 'TestDockerCompose|TestInstall|TestBrokerRealFullDisk' ./integration/ 2>&1 \
	  | grep -v '^        {"level"'; exit $${PIPESTATUS[0]}

# Benchmarks: Go benchmarks, zkd against Apache ZooKeeper (Debian package) side by side,
# and brokerd with franz-go (docs/benchmarks.md).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./proto/... ./storage/...
	$(GO) run ./integration/cmd/zkbench -zkd bin/zkd
	$(GO) run ./integration/cmd/zkbench -zkd bin/zkd -ensemble 3
	$(GO) test -run '^$$' -bench 'RF3' -benchtime 200000x ./brokerd/internal/broker/
	$(GO) run ./integration/cmd/brokerbench -zkd bin/zkd -brokerd bin/brokerd

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
	rm -rf bin var dist
