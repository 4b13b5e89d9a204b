# iptables-shim. `make demo` shows the incident and the fix; `make test` runs
# every test (as root it also runs the network-namespace tests).
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/iptables-shim
GOTEST_FLAGS ?= -count=1 -timeout 80m

.PHONY: all build deps test vet fuzz bench demo clean shims packages image

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

demo:
	sh scripts/deps.sh --runtime
	$(MAKE) build
	sh scripts/demo.sh $(BIN)

clean:
	rm -rf bin dist

# Delivery: static shims per architecture, rpm and deb node packages, and the
# patched kube-proxy image (see packaging/README.md).
ARCHES           ?= amd64 arm64
DIST             ?= dist
PKG_VERSION      ?= 0.1.0
KUBE_PROXY_IMAGE ?= registry.k8s.io/kube-proxy
KUBE_VERSION     ?= v1.30.0
IMAGE            ?= localhost/kube-proxy-iptables-shim:$(KUBE_VERSION)
comma := ,
empty :=
space := $(empty) $(empty)
PLATFORMS := $(subst $(space),$(comma),$(addprefix linux/,$(ARCHES)))

shims:
	@for a in $(ARCHES); do \
	  echo "go build $(DIST)/bin/linux_$$a/iptables-shim"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags "$(LDFLAGS)" \
	    -o $(DIST)/bin/linux_$$a/iptables-shim ./cmd/iptables-shim || exit 1; \
	done

packages: shims
	$(GO) run ./packaging/cmd/mkdist packages -version $(PKG_VERSION) -out $(DIST) $(ARCHES)

# The Dockerfile reads dist/rootfs, so DIST must stay "dist" here.
image: shims
	$(GO) run ./packaging/cmd/mkdist rootfs -out $(DIST) $(ARCHES)
	@args="--build-arg KUBE_PROXY_IMAGE=$(KUBE_PROXY_IMAGE) --build-arg KUBE_VERSION=$(KUBE_VERSION) --target kube-proxy-prebuilt --platform $(PLATFORMS)"; \
	if command -v buildah >/dev/null 2>&1; then \
	  echo "buildah bud $$args --manifest $(IMAGE) ."; buildah bud $$args --manifest $(IMAGE) .; \
	else echo "buildah not found; build with:"; echo "  docker buildx build $$args -t $(IMAGE) ."; fi
