package route

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
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
		log      bool
		want     string
	}{
		{"versions agree: native all the same", "", false, nil, "", false, "native"},
		{"versions agree, native cannot: the binary", "", false, errors.New("no"), "", false, "exec-nft (native cannot: no)"},
		{"skew: native in the host's dialect", "1.8.7 vs 1.8.9", true, nil, "", false, "native"},
		{"skew: the log says why", "1.8.7 vs 1.8.9", true, nil, "", true, "native (1.8.7 vs 1.8.9)"},
		{"unsafe skew native cannot do: native refuses", "1.8.7 vs 1.8.9", true, errors.New("no"), "", false, "native (refusing: 1.8.7 vs 1.8.9)"},
		{"safe skew native cannot do: the binary", "1.8.9 vs 1.8.11", false, errors.New("no"), "", false, "exec-nft (1.8.9 vs 1.8.11; native cannot: no)"},
		{"nft=exec ignores skew", "1.8.7 vs 1.8.9", true, nil, "exec", false, "exec-nft"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := setup{mode: "nft", nft: tc.nft, haveNFT: true, native: &fakeBackend{name: "native", supports: tc.supports}}
			r, _ := s.router()
			if tc.log {
				r.Log = calllog.Open(filepath.Join(t.TempDir(), "calls.log"))
				defer r.Log.Close()
			}
			checked := false
			r.Skew = func(ExecBackend, *backend.Call) (string, bool) { checked = true; return tc.why, tc.unsafe }
			_, path, err := r.pick(backend.NFT, &backend.Call{Tool: backend.Iptables, Family: syntax.IPv4, Args: []string{"-S"}})
			if err != nil || path != tc.want {
				t.Errorf("path %q (err %v), want %q", path, err, tc.want)
			}
			if checked && tc.supports == nil && !tc.log {
				t.Errorf("the skew was checked for a call the native backend carries out, with the log off")
			}
		})
	}
}
