// Package imagepatch adds the shim to an existing kube-proxy image without
// a container engine: one layer per platform (the right architecture's
// binary and six relative links in /usr/sbin) appended to every image of a
// multi-arch index, or to a single image. The config, so ENTRYPOINT, CMD,
// ENV and labels, is kept; only the layer list and history grow.
package imagepatch

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Shims maps a platform key ("amd64", "arm64", "arm/v7": architecture and
// optional variant) to the shim binary built for it.
type Shims map[string][]byte

// ErrNoShim is returned for a platform with no shim binary given.
var ErrNoShim = errors.New("no shim binary for platform")

// key is the Shims key of a platform.
func key(p v1.Platform) string {
	if p.Variant != "" {
		return p.Architecture + "/" + p.Variant
	}
	return p.Architecture
}

// lookup finds the shim for a platform; an arm64 image whose platform says
// variant v8 also takes a plain "arm64" shim.
func (s Shims) lookup(p v1.Platform) ([]byte, error) {
	if b, ok := s[key(p)]; ok {
		return b, nil
	}
	if b, ok := s[p.Architecture]; ok && p.Architecture == "arm64" {
		return b, nil
	}
	return nil, fmt.Errorf("%w %s/%s", ErrNoShim, p.OS, key(p))
}

// Image appends the shim layer for the image's own platform (from its
// config) to img.
func Image(img v1.Image, shims Shims) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	if cf.OS != "" && cf.OS != "linux" {
		return nil, fmt.Errorf("image is for %s: the shim is Linux only", cf.OS)
	}
	shim, err := shims.lookup(v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant})
	if err != nil {
		return nil, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	layer, err := ShimLayer(shim, layerMediaType(mt))
	if err != nil {
		return nil, fmt.Errorf("building shim layer: %w", err)
	}
	out, err := mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			CreatedBy: "iptables-shim-image patch: /usr/sbin/iptables-shim and the iptables names linked to it",
			Created:   v1.Time{Time: layerTime},
		},
		MediaType: layerMediaType(mt),
	})
	if err != nil {
		return nil, fmt.Errorf("appending shim layer: %w", err)
	}
	return out, nil
}

// Index patches every image of a multi-arch index and returns a new index
// of the same media type, each entry keeping its platform and annotations.
// Entries that are not runnable images (attestations, platform
// unknown/unknown) are carried over as they are.
func Index(idx v1.ImageIndex, shims Shims) (v1.ImageIndex, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	mt, err := idx.MediaType()
	if err != nil {
		return nil, err
	}
	out := mutate.IndexMediaType(empty.Index, mt)
	var adds []mutate.IndexAddendum
	for _, desc := range m.Manifests {
		if !desc.MediaType.IsImage() || (desc.Platform != nil && desc.Platform.OS == "unknown") {
			child, err := carry(idx, desc)
			if err != nil {
				return nil, err
			}
			adds = append(adds, mutate.IndexAddendum{Add: child, Descriptor: desc})
			continue
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading image %s: %w", desc.Digest, err)
		}
		patched, err := Image(img, shims)
		if err != nil {
			return nil, fmt.Errorf("platform %s: %w", platformString(desc.Platform), err)
		}
		d := desc
		d.Digest, d.Size, d.URLs = v1.Hash{}, 0, nil // filled from the new image
		adds = append(adds, mutate.IndexAddendum{Add: patched, Descriptor: d})
	}
	return mutate.AppendManifests(out, adds...), nil
}

// carry returns an index entry that is not patched, as an appendable.
func carry(idx v1.ImageIndex, desc v1.Descriptor) (mutate.Appendable, error) {
	if desc.MediaType == types.OCIImageIndex || desc.MediaType == types.DockerManifestList {
		return idx.ImageIndex(desc.Digest)
	}
	return idx.Image(desc.Digest)
}

func platformString(p *v1.Platform) string {
	if p == nil {
		return "(no platform)"
	}
	return p.OS + "/" + key(*p)
}
