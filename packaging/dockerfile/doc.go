// Package dockerfile tests the top-level Dockerfile: it is built with
// buildah, offline, against fake kube-proxy images of each era, and linted
// with BuildKit's own parser and check rules.
package dockerfile
