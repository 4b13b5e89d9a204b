// Command iptables-shim-image patches an existing kube-proxy image so its
// iptables names lead to iptables-shim, without a container engine:
//
//	iptables-shim-image patch --shim amd64=dist/bin/linux_amd64/iptables-shim \
//	    --shim arm64=dist/bin/linux_arm64/iptables-shim \
//	    registry.k8s.io/kube-proxy:v1.30.0 registry.example/kube-proxy:v1.30.0-shim
//
// SRC and DST are registry references, oci:DIR (an OCI layout) or FILE.tar
// (docker save format, single image). Every platform of a multi-arch index
// gets its own architecture's shim; ENTRYPOINT, CMD and the rest of the
// config are kept. It is a separate binary so that the shim itself does not
// link the registry client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/iptables-shim/iptables-shim/packaging/imagepatch"
)

const usage = `Usage: iptables-shim-image patch --shim ARCH=FILE [--shim ARCH=FILE]... [--tag NAME] SRC DST
       iptables-shim-image --help

Appends a layer with the shim and the six iptables names (relative links in
/usr/sbin) to every platform of SRC and writes the result to DST; the
entrypoint and the rest of the config are kept.

SRC, DST: registry/repo:tag, oci:DIR, or FILE.tar (docker save, one image).
ARCH is amd64, arm64, arm/v7, ...: one shim binary per platform of SRC.
--tag names the image inside a FILE.tar destination (default kube-proxy:shim).
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command; exit status 0 done, 1 failed, 2 bad arguments.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	if len(args) == 0 || args[0] != "patch" {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "iptables-shim-image: unknown command %q (the one command is patch)\n", args[0])
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	fl := flag.NewFlagSet("patch", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	shims := imagepatch.Shims{}
	fl.Func("shim", "", func(v string) error {
		arch, file, ok := strings.Cut(v, "=")
		if !ok || arch == "" || file == "" {
			return fmt.Errorf("--shim %q: want ARCH=FILE", v)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		shims[arch] = data
		return nil
	})
	tag := fl.String("tag", "kube-proxy:shim", "")
	if err := fl.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "iptables-shim-image: %v\n%s", err, usage)
		return 2
	}
	if fl.NArg() != 2 || len(shims) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	src, dst := fl.Arg(0), fl.Arg(1)
	a, err := imagepatch.Load(ctx, src)
	if err != nil {
		fmt.Fprintf(stderr, "iptables-shim-image: %v\n", err)
		return 1
	}
	patched, err := imagepatch.Patch(a, shims)
	if err != nil {
		fmt.Fprintf(stderr, "iptables-shim-image: %s: %v\n", src, err)
		return 1
	}
	if err := imagepatch.Save(ctx, patched, dst, *tag); err != nil {
		fmt.Fprintf(stderr, "iptables-shim-image: writing %s: %v\n", dst, err)
		return 1
	}
	d, err := patched.Digest()
	if err != nil {
		fmt.Fprintf(stderr, "iptables-shim-image: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s@%s\n", dst, d)
	return 0
}
