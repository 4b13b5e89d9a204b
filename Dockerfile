# kube-proxy with iptables-shim in front of the image's own iptables.
#
#   buildah bud --build-arg KUBE_VERSION=v1.30.0 -t kube-proxy-shim:v1.30.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg KUBE_VERSION=v1.30.0 .
#
# The kube-proxy stages have no RUN: they copy a prepared root file system
# (the shim in /usr/sbin and the six iptables names as relative links to it)
# over the kube-proxy image, so they build for any architecture without
# emulation and keep kube-proxy's ENTRYPOINT, CMD and everything else.
# /usr/sbin comes before /sbin in PATH, so this also wins in 1.13-1.16 images
# whose iptables live in /sbin; in 1.17+ images the links replace the
# alternatives or wrapper links, and the backends (xtables-*-multi,
# *-legacy, *-nft) stay untouched.
#
# Targets:
#   kube-proxy (default)   the shim compiled from this tree
#   kube-proxy-prebuilt    the shim from dist/rootfs/linux_<arch>/ in the
#                          context (`make image` prepares it): no Go image,
#                          works offline
#   shim-only              just /usr/sbin/iptables-shim, for the Kubernetes
#                          initContainer
ARG KUBE_PROXY_IMAGE=registry.k8s.io/kube-proxy
ARG KUBE_VERSION=v1.30.0
ARG GO_IMAGE=golang:1.26-bookworm

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS compiled
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src
# The shim's module lists only what the shim links (the packaging tools
# have their own module); the version is the VERSION file's, as in
# `make shims` (the linker settings too: see internal/shimbuild).
COPY . .
RUN read -r version < VERSION && CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
      go build -trimpath -ldflags="-s -w -X main.version=$version -X runtime.godebugDefault=asyncpreemptoff=1" -o /rootfs/usr/sbin/iptables-shim ./cmd/iptables-shim && \
    for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \
      ln -s iptables-shim "/rootfs/usr/sbin/$n"; \
    done

FROM ${KUBE_PROXY_IMAGE}:${KUBE_VERSION} AS kube-proxy-prebuilt
ARG TARGETARCH
COPY dist/rootfs/linux_${TARGETARCH}/ /

FROM scratch AS shim-only
COPY --from=compiled /rootfs/usr/sbin/iptables-shim /usr/sbin/iptables-shim
ENTRYPOINT ["/usr/sbin/iptables-shim"]

FROM ${KUBE_PROXY_IMAGE}:${KUBE_VERSION} AS kube-proxy
COPY --from=compiled /rootfs/ /
