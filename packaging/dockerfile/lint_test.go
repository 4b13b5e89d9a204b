package dockerfile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// stubResolver answers image look-ups with a minimal config instead of
// asking a registry, and records what was asked.
type stubResolver struct {
	mu   sync.Mutex
	refs []string
}

func (s *stubResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	s.mu.Lock()
	s.refs = append(s.refs, ref)
	s.mu.Unlock()
	cfg, err := json.Marshal(ocispecs.Image{
		Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
		Config:   ocispecs.ImageConfig{Entrypoint: []string{"/usr/local/bin/kube-proxy"}},
	})
	return ref, digest.FromBytes(cfg), cfg, err
}

// lint runs BuildKit's `docker build --check` rules over a Dockerfile for
// every stage, offline, and returns one line per finding.
func lint(t *testing.T, dt []byte) ([]string, *stubResolver) {
	t.Helper()
	resolver := &stubResolver{}
	// Lint results carry the source as an LLB definition, as a frontend
	// would send it; a local source stands in for the build context.
	def, err := llb.Local("dockerfile").Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dt)
	sm.Definition = def
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config:         dockerui.Config{BuildArgs: map[string]string{}},
		SourceMap:      sm,
		MetaResolver:   resolver,
		TargetPlatform: &ocispecs.Platform{OS: "linux", Architecture: "amd64"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if res.Error != nil {
		out = append(out, "build error: "+res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := int32(0)
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = w.Location.Ranges[0].Start.Line
		}
		out = append(out, fmt.Sprintf("Dockerfile:%d: %s: %s", line, w.RuleName, w.Detail))
	}
	return out, resolver
}

func TestDockerfileLint(t *testing.T) {
	findings, resolver := lint(t, repoFile(t, "Dockerfile"))
	for _, f := range findings {
		t.Error(f)
	}
	if !slices.Contains(resolver.refs, "registry.k8s.io/kube-proxy:v1.30.0") {
		t.Errorf("default base not resolved as expected; asked for %v", resolver.refs)
	}
}

// TestLintCatchesProblems shows the rules really run: a Dockerfile with
// known faults gets the findings `docker build --check` would print.
func TestLintCatchesProblems(t *testing.T) {
	findings, _ := lint(t, []byte("FROM scratch as base\nENV foo bar\n"))
	got := strings.Join(findings, "\n")
	for _, rule := range []string{"FromAsCasing", "LegacyKeyValueFormat"} {
		if !strings.Contains(got, rule) {
			t.Errorf("no %s finding in:\n%s", rule, got)
		}
	}
}

// TestDockerfileShape checks the promises the README makes about the
// Dockerfile's stages.
func TestDockerfileShape(t *testing.T) {
	ast, err := parser.Parse(bytes.NewReader(repoFile(t, "Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			args = append(args, kv.Key)
		}
	}
	for _, want := range []string{"KUBE_PROXY_IMAGE", "KUBE_VERSION"} {
		if !slices.Contains(args, want) {
			t.Errorf("no global ARG %s (have %v)", want, args)
		}
	}
	byName := map[string]instructions.Stage{}
	for _, s := range stages {
		byName[s.Name] = s
	}
	final := stages[len(stages)-1]
	if final.Name != "kube-proxy" {
		t.Errorf("default (last) stage is %q, want kube-proxy", final.Name)
	}
	for _, s := range []instructions.Stage{final, byName["kube-proxy-prebuilt"]} {
		if s.BaseName != "${KUBE_PROXY_IMAGE}:${KUBE_VERSION}" {
			t.Errorf("stage %q is based on %s", s.Name, s.BaseName)
		}
		for _, c := range s.Commands {
			switch c.(type) {
			case *instructions.RunCommand:
				t.Errorf("stage %s has a RUN: it would need emulation for foreign architectures", s.Name)
			case *instructions.EntrypointCommand, *instructions.CmdCommand:
				t.Errorf("stage %s overrides kube-proxy's ENTRYPOINT/CMD", s.Name)
			case *instructions.CopyCommand, *instructions.ArgCommand:
			default:
				t.Errorf("unexpected instruction in stage %s: %v", s.Name, c)
			}
		}
	}
	compiled, ok := byName["compiled"]
	if !ok {
		t.Fatal("no compiled stage")
	}
	if compiled.Platform != "$BUILDPLATFORM" {
		t.Errorf("compiled stage runs on %q, want $BUILDPLATFORM (cross-compiles, no emulation)", compiled.Platform)
	}
	var build string
	for _, c := range compiled.Commands {
		if r, ok := c.(*instructions.RunCommand); ok {
			build += strings.Join(r.CmdLine, " ")
		}
	}
	if !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "GOARCH=$TARGETARCH") {
		t.Errorf("shim build is not static and per-architecture: %s", build)
	}
	if _, ok := byName["shim-only"]; !ok {
		t.Error("no shim-only stage for the Kubernetes initContainer image")
	}
}
