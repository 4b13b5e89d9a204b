// Package kubeproxy holds the real-client test of the shim: kube-proxy's own
// iptables proxier (k8s.io/kubernetes v1.37.2) run through the shim in
// private network namespaces, compared with the same proxier on the real
// iptables binaries. It is a module of its own so the shim's module never
// depends on Kubernetes; run it as root from the repository's root with
//
//	go -C test/kubeproxy test -count=1 -v ./...
//
// (IPTABLES_SHIM_REQUIRE_PRIVILEGED=1 turns a missing privilege, tool or
// nfnetlink_acct into a failure) and its benchmark with
//
//	go -C test/kubeproxy run ./cmd/kpbench [-services 50,1000] [-rounds 3] [-calls]
//
// (see packages harness and proxyrun).
package kubeproxy
