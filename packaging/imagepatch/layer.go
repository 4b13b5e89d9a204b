package imagepatch

import (
	"archive/tar"
	"bytes"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ShimDir is the directory of the image that gets the shim and the six
// names: it comes before /sbin in every kube-proxy image's PATH.
const ShimDir = "usr/sbin"

// shimNames are the names linked to the shim, relative to ShimDir.
var shimNames = [...]string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}

// layerTime is the fixed modification time of every entry, so the same shim
// always gives the same layer digest.
var layerTime = time.Unix(0, 0).UTC()

// ShimLayer returns the layer that puts shim at /usr/sbin/iptables-shim and
// the six names next to it as relative links. An entry at the same path as
// a base file or link replaces it without a whiteout; names are relative
// (no leading "/"), or they would not shadow the base's entries. No
// directory entries are written, so the base's /usr and /usr/sbin keep their
// modes and owners.
func ShimLayer(shim []byte, mediaType types.MediaType) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: ShimDir + "/iptables-shim", Mode: 0o755,
		Size: int64(len(shim)), ModTime: layerTime, Format: tar.FormatPAX,
	}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(shim); err != nil {
		return nil, err
	}
	for _, n := range shimNames {
		if err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeSymlink, Name: ShimDir + "/" + n, Linkname: "iptables-shim",
			Mode: 0o777, ModTime: layerTime, Format: tar.FormatPAX,
		}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(mediaType))
}

// layerMediaType picks the layer type matching the image's manifest type:
// registries and runtimes reject Docker layers in OCI manifests and the
// reverse.
func layerMediaType(manifest types.MediaType) types.MediaType {
	if manifest == types.DockerManifestSchema2 {
		return types.DockerLayer
	}
	return types.OCILayer
}
