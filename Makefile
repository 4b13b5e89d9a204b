# iptables-shim. `make demo` shows the incident and the fix; `make test` runs
# every test (as root it also runs the network-namespace tests).
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/iptables-shim
GOTEST_FLAGS ?= -count=1 -timeout 80m

.PHONY: all build deps test vet fuzz bench demo clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/iptables-shim

deps:
	sh scripts/deps.sh

vet:
	$(GO) vet ./...

test: deps vet
	$(GO) test $(GOTEST_FLAGS) ./...

# Short fuzzing runs of every fuzz target (seed corpora run in `make test`).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: deps build
	sh scripts/bench.sh

demo: deps build
	sh scripts/demo.sh $(BIN)

clean:
	rm -rf bin dist
