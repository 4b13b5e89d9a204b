// Package fakeimage makes small kube-proxy look-alike images for tests:
// the file layout of each era of kube-proxy image (where iptables lives, how
// the names link to backends and wrappers) with stand-in file contents, in
// OCI media types so buildah accepts them from an OCI layout, and reads an
// image's flattened file system back for assertions.
package fakeimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entry is one file system object of an image.
type Entry struct {
	Path string // absolute
	Link string // symlink target; empty for files and directories
	Data string // file content
	Dir  bool
}

// Entrypoint returns kube-proxy's entrypoint, which every era's image sets
// and the fake images carry.
func Entrypoint() []string { return []string{"/usr/local/bin/kube-proxy"} }

// Eras names the layouts Era knows.
func Eras() []string { return []string{"v1.13", "v1.17", "v1.25"} }

// Era returns the iptables-related layout of a kube-proxy image era:
// v1.13 (stretch, iptables 1.6 in /sbin), v1.17 (iptables 1.8 with a wrapper
// registered with update-alternatives), v1.25 (distroless, absolute links
// to the wrapper).
func Era(name string) ([]Entry, error) {
	common := []Entry{
		{Path: "/usr/local/bin/kube-proxy", Data: "kube-proxy"},
		{Path: "/usr/sbin", Dir: true},
		{Path: "/bin/sh", Data: "dash"},
	}
	var es []Entry
	names := []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}
	switch name {
	case "v1.13":
		es = append(es, Entry{Path: "/sbin/xtables-multi", Data: "xtables-multi 1.6"})
		for _, n := range names {
			es = append(es, Entry{Path: "/sbin/" + n, Link: "xtables-multi"})
		}
	case "v1.17", "v1.25":
		es = append(es,
			Entry{Path: "/usr/sbin/xtables-legacy-multi", Data: "legacy backend"},
			Entry{Path: "/usr/sbin/xtables-nft-multi", Data: "nft backend"},
			Entry{Path: "/usr/sbin/iptables-wrapper", Data: "#!/bin/sh\n# wrapper\n"})
		for _, n := range names {
			for _, be := range []string{"legacy", "nft"} {
				es = append(es, Entry{Path: "/usr/sbin/" + strings.Replace(n, "tables", "tables-"+be, 1), Link: "xtables-" + be + "-multi"})
			}
			if name == "v1.17" {
				es = append(es,
					Entry{Path: "/usr/sbin/" + n, Link: "/etc/alternatives/" + n},
					Entry{Path: "/etc/alternatives/" + n, Link: "/usr/sbin/iptables-wrapper"})
			} else {
				es = append(es, Entry{Path: "/usr/sbin/" + n, Link: "/usr/sbin/iptables-wrapper"})
			}
		}
	default:
		return nil, fmt.Errorf("unknown era %q (know %v)", name, Eras())
	}
	return append(common, es...), nil
}

// Image builds a one-layer image of the entries for one architecture, with
// OCI media types and kube-proxy's entrypoint.
func Image(entries []Entry, arch string) (v1.Image, error) {
	layerData, err := Tar(entries)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerData)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Entrypoint = Entrypoint()
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return mutate.ConfigFile(img, cf)
}

// Tar renders entries as a layer tarball: relative names, parents first.
func Tar(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[string]bool{}
	var addDir func(p string) error
	addDir = func(p string) error {
		if p == "/" || seen[p] {
			return nil
		}
		if err := addDir(path.Dir(p)); err != nil {
			return err
		}
		seen[p] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/", Mode: 0o755})
	}
	for _, e := range entries {
		if err := addDir(path.Dir(e.Path)); err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(e.Path, "/")
		var err error
		switch {
		case e.Dir:
			err = addDir(e.Path)
		case e.Link != "":
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: e.Link, Mode: 0o777})
		default:
			if err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(e.Data))}); err == nil {
				_, err = tw.Write([]byte(e.Data))
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// File is one object of a flattened image file system.
type File struct {
	Link string
	Data string
	Dir  bool
}

// Files flattens an image (whiteouts applied) into a map keyed by absolute
// path.
func Files(img v1.Image) (map[string]File, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]File{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		p := "/" + strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		switch h.Typeflag {
		case tar.TypeSymlink:
			out[p] = File{Link: h.Linkname}
		case tar.TypeDir:
			out[p] = File{Dir: true}
		default:
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			out[p] = File{Data: string(data)}
		}
	}
}

// Diff lists paths whose object differs between two flattened file systems,
// sorted, for failure messages.
func Diff(a, b map[string]File) []string {
	var out []string
	for p, fa := range a {
		if fb, ok := b[p]; !ok || fa != fb {
			out = append(out, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
