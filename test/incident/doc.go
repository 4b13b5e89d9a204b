// Package incident plays real kube-proxy call sequences against simulated
// nodes, through the shim, for every combination of host state, image
// binaries and caller (the incident matrix), and shows the original failure
// without the shim. Its tests need root and create their own network
// namespaces.
package incident
