# AgentVault — every target installs what it needs, so each works on a fresh
# Debian/Ubuntu machine with Go and Node.js.
export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
BIN     := bin/agentvault
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: reliability bench bench-gui screenshots run build build-headless test test-go test-race test-e2e deps deps-run e2e-deps vet clean

## run: build the app and start it (desktop app with a display, headless server without)
run: build
	./$(BIN)

## build: the full binary (cgo; the desktop app as it lands)
build: deps-run
	@[ -x $(BIN) ] || echo "Building the desktop app: the first build compiles the GUI toolkit and takes a few minutes…"
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

## build-headless: a static binary with serve and the CLI, no GUI
build-headless:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

## test: everything CI runs
test: vet test-go build test-race test-e2e reliability

vet:
	CGO_ENABLED=0 $(GO) vet ./...

## test-go: the Go suite, headless, without cgo
test-go: deps e2e-deps
	CGO_ENABLED=0 $(GO) test -count=1 ./...

## test-race: the Go suite once more under the race detector (needs cgo)
test-race: deps e2e-deps
	$(GO) test -race -count=1 ./...

## test-e2e: real MCP clients and servers from npm against the real binary
test-e2e: build e2e-deps
	cd e2e && AGENTVAULT_BIN=$(CURDIR)/$(BIN) node --test

e2e-deps:
	cd e2e && npm ci --no-audit --no-fund

## deps: system packages for the cgo build and the tests (installed only when missing, as root)
deps:
	@scripts/install-deps.sh test

## deps-run: only what building and running the desktop app needs
deps-run:
	@scripts/install-deps.sh run

## reliability: the attack, crash, fail-closed, leak and secrets suite with its figures, then fuzzing
## (30 s a target; RELIABILITY=long for 50 crash trials, 10,000 sessions and 30 min a target)
FUZZTIME ?= $(if $(filter long,$(RELIABILITY)),30m,30s)
reliability: deps e2e-deps
	CGO_ENABLED=0 $(GO) test -c -o bin/reliability.test ./internal/reliability
	cd internal/reliability && ../../bin/reliability.test -test.timeout 60m
	CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz '^FuzzServeHTTP$$' -fuzztime $(FUZZTIME) ./mcpserver
	CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz '^FuzzDecide$$' -fuzztime $(FUZZTIME) ./policy
	CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz '^FuzzDecodeTemplate$$' -fuzztime $(FUZZTIME) ./policy
	CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz '^FuzzGuards$$' -fuzztime $(FUZZTIME) ./policy
	CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz '^FuzzCommandLine$$' -fuzztime $(FUZZTIME) ./internal/cli

## bench: micro-benchmarks of the pieces, then direct vs via-vault on this machine (agentvault bench)
bench: build-headless
	CGO_ENABLED=0 $(GO) test -run '^$$' -bench . -benchmem -cpu 1,8 ./policy ./internal/audit ./internal/store ./mcpserver
	./$(BIN) bench

## bench-gui: the desktop app's start-to-first-frame time and tray memory against a bare Fyne tray app
bench-gui: build
	scripts/gui-bench.sh

## screenshots: regenerate docs/screenshots/ from the real app under Xvfb
screenshots: build e2e-deps
	scripts/screenshots.sh

clean:
	rm -rf bin e2e/node_modules
