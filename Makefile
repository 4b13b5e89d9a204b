# iptables-shim. `make demo` shows the incident and the fix; `make test` runs
# every test of every module (as root it also runs the network-namespace
# tests) and ends with "N passed, N failed, N skipped".
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
# One version for the binary, the rpm/deb and the image: the VERSION file
# (git describe only when there is none; see scripts/version.sh).
# `make packages VERSION=1.2.3` overrides it for all three.
VERSION ?= $(shell sh scripts/version.sh)
# runtime.godebugDefault: see internal/shimbuild (no preemption signals).
LDFLAGS := -s -w -X main.version=$(VERSION) -X runtime.godebugDefault=asyncpreemptoff=1
BIN := bin/iptables-shim
GOTEST_FLAGS ?= -count=1 -timeout 80m

# Go modules of this repository: the shim's own (.), kept to the libraries
# the shim links; the packaging tools, and the kube-proxy harness, each with
# their heavy dependencies. A new module is one more directory here; `make
# vet` fails when a go.mod in the tree is missing from this list, so none
# goes untested.
MODULES ?= . packaging test/kubeproxy

.PHONY: all build deps test vet check-modules fuzz bench demo clean shims packages image image-tool fake-base version

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/iptables-shim

version:
	@echo $(VERSION)

deps:
	MODULES="$(MODULES)" sh scripts/deps.sh

check-modules:
	@for f in $$(find . -name go.mod -not -path './dist/*' -not -path '*/testdata/*' | sort); do \
	  d=$$(dirname $$f); d=$${d#./}; [ -n "$$d" ] || d=.; \
	  case " $(MODULES) " in *" $$d "*) ;; *) echo "module $$d is not in MODULES (Makefile): its tests would not run"; exit 1;; esac; \
	done

vet: check-modules
	@for m in $(MODULES); do echo "go vet ($$m)"; (cd $$m && $(GO) vet ./...) || exit 1; done

# Progress per package, then a summary per package group and the closing
# line "N passed, N failed, N skipped"; the exit status says whether
# anything failed. TEST_FUZZTIME=10s (CI) then also runs every fuzz target
# for that long, each counted as a test of the group "fuzz".
TEST_FUZZTIME ?=
TESTSUMMARY := $(GO) run ./internal/testsummary -go "$(GO)"
test: deps vet
	$(TESTSUMMARY) -flags "$(GOTEST_FLAGS)" $(if $(TEST_FUZZTIME),-fuzztime $(TEST_FUZZTIME)) $(MODULES)

# Every fuzz target for FUZZTIME each (seed corpus first), nothing else.
FUZZTIME ?= 30s
fuzz:
	$(TESTSUMMARY) -tests=false -fuzztime $(FUZZTIME) $(MODULES)

bench: deps build
	sh scripts/bench.sh

demo:
	sh scripts/deps.sh --runtime
	$(MAKE) build
	sh scripts/demo.sh $(BIN)

clean:
	rm -rf bin dist

# Delivery: static shims per architecture, rpm and deb node packages, and the
# patched kube-proxy image (see packaging/README.md). The packaging tools live
# in their own module (packaging/go.mod).
ARCHES           ?= amd64 arm64
DIST             ?= dist
KUBE_PROXY_IMAGE ?= registry.k8s.io/kube-proxy
KUBE_VERSION     ?= v1.30.0
IMAGE            ?= localhost/kube-proxy-iptables-shim:$(KUBE_VERSION)
comma := ,
empty :=
space := $(empty) $(empty)
PLATFORMS := $(subst $(space),$(comma),$(addprefix linux/,$(ARCHES)))
MKDIST := cd packaging && $(GO) run ./cmd/mkdist

shims:
	@for a in $(ARCHES); do \
	  echo "go build $(DIST)/bin/linux_$$a/iptables-shim (version $(VERSION))"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags "$(LDFLAGS)" \
	    -o $(DIST)/bin/linux_$$a/iptables-shim ./cmd/iptables-shim || exit 1; \
	done

packages: shims
	$(MKDIST) packages -version $(VERSION) -out $(abspath $(DIST)) $(ARCHES)

# The base image comes from KUBE_PROXY_IMAGE:KUBE_VERSION, which buildah
# pulls from its registry unless it is local (an oci:DIR layout or an image
# in buildah's store); see packaging/README.md for building offline. The
# Dockerfile reads dist/rootfs, so DIST must stay "dist" here.
image: shims
	$(MKDIST) rootfs -out $(abspath $(DIST)) $(ARCHES)
	@args="--build-arg KUBE_PROXY_IMAGE=$(KUBE_PROXY_IMAGE) --build-arg KUBE_VERSION=$(KUBE_VERSION) --label io.github.iptables-shim.version=$(VERSION) --target kube-proxy-prebuilt --platform $(PLATFORMS)"; \
	echo "base image: $(KUBE_PROXY_IMAGE):$(KUBE_VERSION) (pulled from its registry unless local)"; \
	if command -v buildah >/dev/null 2>&1; then \
	  echo "buildah bud $$args --manifest $(IMAGE) ."; buildah bud $$args --manifest $(IMAGE) .; \
	else echo "buildah not found; build with:"; echo "  docker buildx build $$args -t $(IMAGE) ."; fi

# A stand-in kube-proxy base image (an OCI layout with the iptables layout of
# an era, FAKE_BASE_ERA) for building the image with no registry:
#   make fake-base && make image KUBE_PROXY_IMAGE=oci:$(abspath $(DIST))/fake-base KUBE_VERSION=latest
FAKE_BASE_ERA ?= v1.25
fake-base:
	$(MKDIST) fakebase -era $(FAKE_BASE_ERA) -out $(abspath $(DIST))/fake-base $(ARCHES)

# bin/iptables-shim-image: patches an existing image without a container
# engine (packaging/README.md).
image-tool:
	cd packaging && CGO_ENABLED=0 $(GO) build -trimpath -o $(abspath bin)/iptables-shim-image ./cmd/iptables-shim-image
