// Package kubernetes holds Kustomize components that make the kube-proxy
// DaemonSet use the shim, and a DaemonSet that runs the doctor on every node.
// The Go files only test that the patches merge into a kubeadm-style
// DaemonSet the way the README says.
package kubernetes
