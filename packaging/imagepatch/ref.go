package imagepatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Artifact is what a reference names: a multi-arch index or a single image
// (exactly one of the two is set).
type Artifact struct {
	Index v1.ImageIndex
	Image v1.Image
}

// Patch adds the shim to every image of the artifact.
func Patch(a Artifact, shims Shims) (Artifact, error) {
	if a.Index != nil {
		idx, err := Index(a.Index, shims)
		return Artifact{Index: idx}, err
	}
	img, err := Image(a.Image, shims)
	return Artifact{Image: img}, err
}

// refKind is how a reference string is read or written.
type refKind int

const (
	kindRegistry refKind = iota
	kindLayout           // oci:DIR, an OCI image layout directory
	kindTarball          // a docker save tarball: a path ending in .tar
)

func parseRef(ref string) (refKind, string) {
	switch {
	case strings.HasPrefix(ref, "oci:"):
		return kindLayout, strings.TrimPrefix(ref, "oci:")
	case strings.HasSuffix(ref, ".tar"):
		return kindTarball, ref
	}
	return kindRegistry, ref
}

// remoteOptions are the registry options: the caller's docker/podman
// credentials, and the context.
func remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(ctx)}
}

// Load reads an artifact: a registry reference (registry/repo:tag or
// @digest), oci:DIR, or FILE.tar (docker save format, one image).
func Load(ctx context.Context, ref string) (Artifact, error) {
	kind, where := parseRef(ref)
	switch kind {
	case kindLayout:
		return loadLayout(where)
	case kindTarball:
		img, err := tarball.ImageFromPath(where, nil)
		if err != nil {
			return Artifact{}, fmt.Errorf("reading %s: %w", where, err)
		}
		return Artifact{Image: img}, nil
	}
	r, err := name.ParseReference(where)
	if err != nil {
		return Artifact{}, err
	}
	desc, err := remote.Get(r, remoteOptions(ctx)...)
	if err != nil {
		return Artifact{}, fmt.Errorf("fetching %s: %w", where, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		return Artifact{Index: idx}, err
	}
	img, err := desc.Image()
	return Artifact{Image: img}, err
}

// loadLayout reads an OCI layout: its single entry (an index or an image),
// or, with several image entries, the layout's own index.
func loadLayout(dir string) (Artifact, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return Artifact{}, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return Artifact{}, err
	}
	switch {
	case len(m.Manifests) == 0:
		return Artifact{}, fmt.Errorf("OCI layout %s holds no image", dir)
	case len(m.Manifests) > 1:
		return Artifact{Index: idx}, nil
	case m.Manifests[0].MediaType.IsIndex():
		child, err := idx.ImageIndex(m.Manifests[0].Digest)
		return Artifact{Index: child}, err
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	return Artifact{Image: img}, err
}

// Save writes an artifact to a registry reference, oci:DIR (a new layout,
// the entry tagged "latest") or FILE.tar (single images only; tag names the
// image inside).
func Save(ctx context.Context, a Artifact, ref, tag string) error {
	kind, where := parseRef(ref)
	switch kind {
	case kindLayout:
		if _, err := os.Stat(where); err == nil {
			return fmt.Errorf("%s exists; give a new directory", where)
		}
		p, err := layout.Write(where, empty.Index)
		if err != nil {
			return err
		}
		ann := layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"})
		if a.Index != nil {
			return p.AppendIndex(a.Index, ann)
		}
		return p.AppendImage(a.Image, ann)
	case kindTarball:
		if a.Image == nil {
			return errors.New("a docker save tarball holds one image: write a multi-arch index to a registry or oci:DIR")
		}
		t, err := name.NewTag(tag)
		if err != nil {
			return err
		}
		return tarball.WriteToFile(where, t, a.Image)
	}
	r, err := name.ParseReference(where)
	if err != nil {
		return err
	}
	if a.Index != nil {
		return remote.WriteIndex(r, a.Index, remoteOptions(ctx)...)
	}
	return remote.Write(r, a.Image, remoteOptions(ctx)...)
}

// Digest is the digest of the index or image.
func (a Artifact) Digest() (v1.Hash, error) {
	if a.Index != nil {
		return a.Index.Digest()
	}
	return a.Image.Digest()
}
