package fake

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/detect/xtables"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/netfilter"
)

func TestMain(m *testing.M) {
	helperproc.Main(m, map[string]func() int{"entries": helperEntries})
}

// tableState is what a reader gets of one table: GET_INFO, and the
// GET_ENTRIES blob.
type tableState struct {
	Info xtables.Info
	Blob []byte
}

// entriesOf reads every listed table of f from k (the kernel when nil).
func entriesOf(k xtables.Kernel, f netfilter.Family) (map[string]tableState, error) {
	r, err := xtables.OpenOn(k, f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := map[string]tableState{}
	for _, name := range r.Tables() {
		in, blob, err := r.Entries(name)
		if err != nil {
			return nil, err
		}
		out[name] = tableState{in, blob}
	}
	return out, nil
}

// helperEntries prints the kernel's tables of the family in T_FAMILY.
func helperEntries() int {
	f := netfilter.IPv4
	if os.Getenv("T_FAMILY") == "6" {
		f = netfilter.IPv6
	}
	return helperproc.Print(entriesOf(nil, f))
}

// tables is what the honesty test restores: kube-proxy's and kubelet's
// shapes, chains declared out of order, a rule without a target, a jump
// to an empty chain.
const tables = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-FIREWALL - [0:0]
:EMPTY - [0:0]
-A INPUT -j KUBE-FIREWALL
-A INPUT -j ACCEPT
-A FORWARD -j KUBE-FORWARD
-A OUTPUT
-A KUBE-FIREWALL -j DROP
-A KUBE-FORWARD -j EMPTY
-A KUBE-FORWARD -j RETURN
COMMIT
*nat
:POSTROUTING ACCEPT [0:0]
:KUBE-POSTROUTING - [0:0]
:A-FIRST - [0:0]
-A POSTROUTING -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -j A-FIRST
COMMIT
*mangle
:KUBE-IPTABLES-HINT - [0:0]
COMMIT
`

// TestFakeMatchesKernel keeps the fake honest: the same tables (with only
// what the fake keeps: chains, policies, rules with a verdict or a jump and
// no match) restored by iptables-legacy-restore into a namespace's kernel
// and into the fake read back with the same GET_INFO and, counters aside,
// the same entry bytes, in both families.
func TestFakeMatchesKernel(t *testing.T) {
	for _, fam := range []struct {
		flag, restore string
		f             netfilter.Family
	}{{"4", "iptables-legacy-restore", netfilter.IPv4}, {"6", "ip6tables-legacy-restore", netfilter.IPv6}} {
		t.Run("ipv"+fam.flag, func(t *testing.T) {
			netnstest.Require(t, fam.restore)
			ns := netnstest.New(t)
			ns.MustRunStdin(tables, fam.restore, "--noflush")
			var kernel map[string]tableState
			helperproc.RunJSON(t, ns, "entries", &kernel, "T_FAMILY="+fam.flag)
			k := New()
			if err := k.Restore(fam.f, tables); err != nil {
				t.Fatal(err)
			}
			fake, err := entriesOf(k, fam.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(fake) != len(kernel) {
				t.Errorf("tables: fake %d, kernel %d", len(fake), len(kernel))
			}
			for name, want := range kernel {
				got := fake[name]
				if got.Info != want.Info {
					t.Errorf("%s GET_INFO:\nfake   %+v\nkernel %+v", name, got.Info, want.Info)
					continue
				}
				if d := firstDifference(got.Blob, want.Blob, fam.f); d != "" {
					t.Errorf("%s entries: %s", name, d)
				}
			}
		})
	}
}

// firstDifference compares two entry blobs, ignoring what the kernel keeps
// per entry at run time (comefrom, the counters).
func firstDifference(got, want []byte, f netfilter.Family) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d bytes, kernel %d", len(got), len(want))
	}
	size, offsetsAt := ipv4EntrySize, ipv4OffsetsAt
	if f == netfilter.IPv6 {
		size, offsetsAt = ipv6EntrySize, ipv6OffsetsAt
	}
	for off := 0; off < len(want); {
		next := int(binary.NativeEndian.Uint16(want[off+offsetsAt+2:]))
		if next == 0 {
			next = len(want) - off
		}
		for i := off; i < off+next; i++ {
			runtime := i-off >= offsetsAt+4 && i-off < size // comefrom, counters
			if !runtime && got[i] != want[i] {
				return fmt.Sprintf("entry at %d differs at byte %d: fake %#x, kernel %#x", off, i-off, got[i], want[i])
			}
		}
		off += next
	}
	return ""
}
