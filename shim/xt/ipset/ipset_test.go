package ipset

import (
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/ipterr"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// TestResolver creates sets with the real ipset tool in a private
// namespace and checks the indexes the kernel hands out.
func TestResolver(t *testing.T) {
	netnstest.Require(t, "ipset")
	ns := netnstest.New(t)
	ns.MustRun("ipset", "create", "a4", "hash:ip")
	ns.MustRun("ipset", "create", "b6", "hash:ip", "family", "inet6")
	ns.MustRun("ipset", "create", "c4", "hash:net")
	r, err := OpenIn("/run/netns/"+ns.Name, syntax.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, want := range map[string]uint16{"a4": 0, "c4": 2} {
		got, err := r.Index(name)
		if err != nil || got != want {
			t.Errorf("Index(%s) = %d, %v; want %d", name, got, err, want)
		}
		back, err := r.Name(want)
		if err != nil || back != name {
			t.Errorf("Name(%d) = %q, %v; want %s", want, back, err, name)
		}
	}
	if _, err := r.Index("nope"); !ipterr.Is(err, ipterr.Parameter) || err.Error() != "Set nope doesn't exist.\n" {
		t.Errorf("Index(nope): %v", err)
	}
	if _, err := r.Index("b6"); err == nil || err.Error() != "The protocol family of set b6 is IPv6, which is not applicable.\n" {
		t.Errorf("Index(b6) for IPv4: %v", err)
	}
	if _, err := r.Name(7); err == nil {
		t.Errorf("Name(7) found a set")
	}
}
