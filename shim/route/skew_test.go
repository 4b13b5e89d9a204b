package route

import (
	"errors"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestPickSkew: with nft=auto, an image's iptables-nft of another dialect
// than the host's is not handed the call: the native backend (writing the
// host's dialect) takes it; what native cannot do goes to the binary only
// when the skew is safe.
func TestPickSkew(t *testing.T) {
	for _, tc := range []struct {
		name     string
		why      string
		unsafe   bool
		supports error
		nft      string
		want     string
	}{
		{"versions agree: the image's binary", "", false, nil, "", "exec-nft"},
		{"skew: native in the host's dialect", "1.8.7 vs 1.8.9", true, nil, "", "native (1.8.7 vs 1.8.9)"},
		{"unsafe skew native cannot do: native refuses", "1.8.7 vs 1.8.9", true, errors.New("no"), "", "native (refusing: 1.8.7 vs 1.8.9)"},
		{"safe skew native cannot do: the binary", "1.8.9 vs 1.8.11", false, errors.New("no"), "", "exec-nft (1.8.9 vs 1.8.11; native cannot: no)"},
		{"nft=exec ignores skew", "1.8.7 vs 1.8.9", true, nil, "exec", "exec-nft"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := setup{mode: "nft", nft: tc.nft, haveNFT: true, native: &fakeBackend{name: "native", supports: tc.supports}}
			r, _ := s.router()
			r.Skew = func(ExecBackend, *backend.Call) (string, bool) { return tc.why, tc.unsafe }
			_, path, err := r.pick(backend.NFT, &backend.Call{Tool: backend.Restore, Family: syntax.IPv4})
			if err != nil || !strings.HasPrefix(path, tc.want) {
				t.Errorf("path %q (err %v), want %q", path, err, tc.want)
			}
		})
	}
}
