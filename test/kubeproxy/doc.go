// Package kubeproxy holds the real-client test of the shim: kube-proxy's own
// iptables proxier (k8s.io/kubernetes v1.37.2) run through the shim in
// private network namespaces, compared with the same proxier on the real
// iptables binaries. It is a module of its own so the shim's module never
// depends on Kubernetes; run it as root with
//
//	cd test/kubeproxy && go test ./...
//
// and its benchmark with `go run ./cmd/kpbench` (see harness and
// proxyrun).
package kubeproxy
