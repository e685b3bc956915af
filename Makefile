# AgentVault — every target installs what it needs, so each works on a fresh
# Debian/Ubuntu machine with Go and Node.js.
export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
BIN     := bin/agentvault
# Versions: FyneApp.toml's, the commit, the build day. The repository has no
# tags yet, so the Debian version is e.g. 0.1.0~git20261203.699ac9d.
APP_VERSION := $(shell sed -n 's/^Version *= *"\(.*\)"$$/\1/p' FyneApp.toml)
COMMIT      := $(shell git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
DIRTY       := $(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
DATE        := $(shell date -u +%Y-%m-%d)
DEB_VERSION := $(APP_VERSION)~git$(shell git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null || date -u +%Y%m%d).$(COMMIT)
LDFLAGS     := -X main.version=$(APP_VERSION) -X main.commit=$(COMMIT)$(DIRTY) -X main.date=$(DATE)
DEB         := dist/agentvault_$(DEB_VERSION)_amd64.deb

.PHONY: reliability bench bench-gui screenshots run build build-headless test test-go test-race test-e2e test-deb cross package deps deps-run deps-package e2e-deps vet clean

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
test: vet cross test-go build test-deb test-race test-e2e reliability

## cross: vet and build the headless binary for macOS and Windows (their GUI
## needs their own cgo toolchains: app is left out; make package builds Windows')
CROSS := darwin/amd64 darwin/arm64 windows/amd64
cross:
	@for t in $(CROSS); do \
	  echo "vet and build for $$t"; \
	  export GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0; \
	  $(GO) vet $$($(GO) list ./... | grep -v '/app$$') && $(GO) build -o /dev/null . || exit 1; \
	done

## test-deb: build the .deb from the test build and check it installs and runs
test-deb: build
	scripts/package.sh deb $(BIN) $(DEB_VERSION) bin/$(notdir $(DEB))
	scripts/package.sh check-deb bin/$(notdir $(DEB))

## package: dist/ gets the .deb, the Linux desktop bundle and the Windows
## executable (a cold mingw-w64 build takes about 10 minutes on 2 cores)
package: deps-package
	$(GO) build -ldflags "$(LDFLAGS) -s -w" -o dist/agentvault .
	scripts/package.sh deb dist/agentvault $(DEB_VERSION) $(DEB)
	scripts/package.sh check-deb $(DEB)
	scripts/package.sh bundle dist/agentvault $(APP_VERSION) dist
	scripts/package.sh exe $(APP_VERSION) $(COMMIT)$(DIRTY) $(DATE) dist
	rm dist/agentvault
	@ls -l dist

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

## deps-package: what building the packages needs (mingw-w64 for Windows)
deps-package:
	@scripts/install-deps.sh package

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
	rm -rf bin dist e2e/node_modules
