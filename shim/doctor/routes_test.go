package doctor

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/execbackend"
)

// Fake images for the routes.
func nftOnlyImage(t *testing.T) string { return fakeRoot(t, "1.8.9") }

func bothImage(t *testing.T) string {
	return imageRoot(t, map[string]string{
		"usr/sbin/xtables-nft-multi":    elf("1.8.9", "nf_tables"),
		"usr/sbin/xtables-legacy-multi": elf("1.8.9", "legacy"),
	})
}

func emptyImage(t *testing.T) string { return imageRoot(t, map[string]string{"usr/sbin/ip": "ip"}) }

// vias renders the routes of one mode as one word when all programs agree,
// or all of them.
func vias(rs []Route, mode backend.Mode) string {
	var out []string
	for _, r := range rs {
		if r.Mode == mode {
			out = append(out, r.Via)
		}
	}
	for _, v := range out[1:] {
		if v != out[0] {
			return strings.Join(out, ",")
		}
	}
	return out[0]
}

// TestRoutesFollowTheRouter checks the doctor's account of every nft
// setting against shim/route's pick policy: legacy always needs a real
// binary; nf_tables uses the native backend (nft=auto, nft=native) with a
// real iptables-nft for what it cannot do, never with nft=exec.
func TestRoutesFollowTheRouter(t *testing.T) {
	cases := []struct {
		image          func(*testing.T) string
		nft            string
		native         bool
		wantNFT, wantL string
	}{
		{bothImage, config.NFTAuto, true, ViaNative, ViaBinary},
		{bothImage, config.NFTNative, true, ViaNative, ViaBinary},
		{bothImage, config.NFTExec, true, ViaBinary, ViaBinary},
		{bothImage, config.NFTNative, false, ViaBinary, ViaBinary},
		{nftOnlyImage, "", true, ViaNative, ViaNone},
		{emptyImage, config.NFTAuto, true, ViaNative, ViaNone},
		{emptyImage, config.NFTNative, true, ViaNative, ViaNone},
		{emptyImage, config.NFTExec, true, ViaNone, ViaNone},
		{emptyImage, config.NFTAuto, false, ViaNone, ViaNone},
	}
	for _, c := range cases {
		rs := findRoutes(execbackend.LocateOptions{Root: c.image(t)}, routePolicy{nft: c.nft, native: c.native})
		if len(rs) != 12 {
			t.Fatalf("%d routes, want 2 modes x 6 programs", len(rs))
		}
		if got := vias(rs, backend.NFT); got != c.wantNFT {
			t.Errorf("nft=%q native=%v: nf_tables via %s, want %s", c.nft, c.native, got, c.wantNFT)
		}
		if got := vias(rs, backend.Legacy); got != c.wantL {
			t.Errorf("nft=%q native=%v: legacy via %s, want %s", c.nft, c.native, got, c.wantL)
		}
		for _, r := range rs {
			if (r.Via == ViaNone) != (r.Error != "") || r.Why == "" {
				t.Errorf("route %+v: a route that fails must carry the error, and every route a reason", r)
			}
		}
	}
}

func TestRouteNamesTheBinaryAndArgv0(t *testing.T) {
	rs := findRoutes(execbackend.LocateOptions{Root: nftOnlyImage(t)}, routePolicy{})
	r := rs[5] // nf_tables ip6tables-restore
	if r.Program != "ip6tables-restore" || !strings.HasSuffix(r.Binary, "/usr/sbin/xtables-nft-multi") || r.Argv0 != "ip6tables-restore" {
		t.Errorf("route %+v", r)
	}
}

func TestLegacyHostWithoutLegacyBinaryIsAProblem(t *testing.T) {
	image := execbackend.LocateOptions{Root: nftOnlyImage(t), Dirs: []string{"/usr/sbin", "/sbin"}}
	r := Report{
		Decision: detect.Decision{Mode: backend.Legacy, Reason: detect.ReasonKubeletChains},
		Kernel:   Kernel{NFTables: Facility{Available: true}},
		Routes:   findRoutes(image, routePolicy{native: true}),
		searched: image.Dirs,
	}
	analyze(&r, inventory(nil, kubeletNFT()), nil)
	if r.Verdict != Problem || len(r.Problems) != 1 || r.Problems[0].Kind != KindNoBackend {
		t.Fatalf("verdict %s, problems %+v", r.Verdict, r.Problems)
	}
	if s := r.Problems[0].Summary; !strings.Contains(s, "host uses legacy") || !strings.Contains(s, "ip6tables-restore") {
		t.Errorf("summary: %s", s)
	}
	for _, want := range []string{"legacy iptables binaries", "IPTABLES_SHIM_BACKEND_DIRS", "/usr/sbin, /sbin"} {
		if !strings.Contains(r.Action, want) {
			t.Errorf("action lacks %q: %s", want, r.Action)
		}
	}
	var b strings.Builder
	Render(&b, r, false)
	if !strings.Contains(b.String(), "shim runs legacy:") || !strings.Contains(b.String(), "-> nothing: no legacy binary in this image") {
		t.Errorf("rendering:\n%s", b.String())
	}
}

func TestNFTHostWithoutBinaryIsServedNatively(t *testing.T) {
	r := Report{
		Decision: detect.Decision{Mode: backend.NFT, Reason: detect.ReasonKubeletChains},
		Kernel:   Kernel{NFTables: Facility{Available: true}},
		Routes:   findRoutes(execbackend.LocateOptions{Root: emptyImage(t)}, routePolicy{native: true}),
	}
	analyze(&r, inventory(kubeletNFT(), nil), nil)
	if r.Verdict != Healthy {
		t.Errorf("verdict %s, problems %+v", r.Verdict, r.Problems)
	}
	var b strings.Builder
	Render(&b, r, false)
	if !strings.Contains(b.String(), "the shim's native nf_tables backend serves the call") {
		t.Errorf("rendering:\n%s", b.String())
	}
	// The same image with a shim that has no native backend cannot serve
	// the host at all.
	r = Report{Decision: r.Decision, Kernel: r.Kernel, Routes: findRoutes(execbackend.LocateOptions{Root: emptyImage(t)}, routePolicy{})}
	analyze(&r, inventory(kubeletNFT(), nil), nil)
	if r.Verdict != Problem || r.Problems[0].Kind != KindNoBackend || !strings.Contains(r.Action, "iptables-nft") {
		t.Errorf("without native: verdict %s, problems %+v, action %s", r.Verdict, r.Problems, r.Action)
	}
}
