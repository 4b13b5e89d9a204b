package guard

import (
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

func TestMayJumpToUndeclared(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		flags syntax.RestoreFlags
		want  bool
	}{
		{"the incident payload", ipvs113, syntax.RestoreFlags{}, true},
		{"everything declared", "*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A A -j MARK --set-xmark 0x1/0x1\n-A B -j RETURN\nCOMMIT\n", syntax.RestoreFlags{}, false},
		{"-N declares", "*nat\n-N B\n-A POSTROUTING -j B\nCOMMIT\n", syntax.RestoreFlags{}, false},
		{"declared in another table", "*filter\n:B - [0:0]\nCOMMIT\n*nat\n-A POSTROUTING -j B\nCOMMIT\n", syntax.RestoreFlags{}, true},
		{"other table skipped by -T", "*nat\n-A POSTROUTING -j B\nCOMMIT\n", syntax.RestoreFlags{Table: "filter"}, false},
		{"quoted target", "*nat\n-A POSTROUTING -j \"B\"\nCOMMIT\n", syntax.RestoreFlags{}, true},
		{"bundled", "*nat\n-A POSTROUTING -vjB\nCOMMIT\n", syntax.RestoreFlags{}, true},
		{"abbreviated", "*nat\n-A POSTROUTING --jum B\nCOMMIT\n", syntax.RestoreFlags{}, true},
		{"comment mentioning a jump", "*nat\n:A - [0:0]\n-A A -m comment --comment \"see -j X\" -j ACCEPT\nCOMMIT\n", syntax.RestoreFlags{}, false},
		{"quoted option", "*nat\n-A POSTROUTING \"-j\"X\nCOMMIT\n", syntax.RestoreFlags{}, true},
		{"builtin and kernel target", "*nat\n-A OUTPUT -j POSTROUTING\n-A OUTPUT -j TPROXY\nCOMMIT\n", syntax.RestoreFlags{}, false},
	} {
		if got := MayJumpToUndeclared([]byte(tc.input), tc.flags, syntax.IPv4); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestQuickScanAgreesWithThePlan: whenever the quick look says "nothing to
// do", the full plan (which parses) must agree, on kube-proxy payloads of
// both shapes and families.
func TestQuickScanAgreesWithThePlan(t *testing.T) {
	for _, fam := range []syntax.Family{syntax.IPv4, syntax.IPv6} {
		for _, shape := range []kubepayload.Shape{kubepayload.IptablesMode, kubepayload.IPVSMode} {
			text := kubepayload.Generate(kubepayload.Options{Services: 50, Family: fam, Shape: shape}).Text
			p, err := syntax.ParseRestore(strings.NewReader(text), fam)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := PlanRestore(p, syntax.RestoreFlags{}, defaults, fakeChains{})
			if err != nil {
				t.Fatal(err)
			}
			quick := MayJumpToUndeclared([]byte(text), syntax.RestoreFlags{}, fam)
			if !quick && !plan.Empty() {
				t.Errorf("family %d shape %v: the quick look missed %+v", fam, shape, plan.Creations)
			}
		}
	}
}

func BenchmarkMayJumpToUndeclared(b *testing.B) {
	text := []byte(kubepayload.Generate(kubepayload.Options{Services: 2000}).Text)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		MayJumpToUndeclared(text, syntax.RestoreFlags{}, syntax.IPv4)
	}
}

// FuzzQuickScanIsConservative: for any input the parser accepts, a quick
// "nothing to do" must never hide a chain the full plan would create.
func FuzzQuickScanIsConservative(f *testing.F) {
	f.Add(ipvs113, false)
	f.Add("*nat\n:A - [0:0]\n-A A -j B\nCOMMIT\n", true)
	f.Add("*nat\n-N B\n-A POSTROUTING -g B\nCOMMIT\n*filter\n-A INPUT -j B\nCOMMIT\n", true)
	f.Add("*filter\n-A INPUT -p tcp --jump X\nCOMMIT\n", false)
	f.Fuzz(func(t *testing.T, input string, noflush bool) {
		p, err := syntax.ParseRestore(strings.NewReader(input), syntax.IPv4)
		if err != nil {
			return
		}
		flags := syntax.RestoreFlags{NoFlush: noflush}
		plan, err := PlanRestore(p, flags, Settings{Catalog: defaults.Catalog, CreateUnknown: true}, fakeChains{})
		if err != nil {
			t.Fatal(err)
		}
		if !plan.Empty() && !MayJumpToUndeclared([]byte(input), flags, syntax.IPv4) {
			t.Errorf("the quick look says nothing to do, the plan creates %+v", plan.Creations)
		}
		refuse := Settings{Catalog: defaults.Catalog}
		plan, err = PlanRestore(p, flags, refuse, fakeChains{})
		if err != nil {
			t.Fatal(err)
		}
		if !plan.Empty() && !MayNeedChains([]byte(input), flags, syntax.IPv4, refuse) {
			t.Errorf("the catalog-only quick look says nothing to do, the plan creates %+v", plan.Creations)
		}
	})
}

// TestMayNeedChains: with unknown-chains=refuse only a jump to a catalog
// chain needs the guard; jumps to other undeclared chains (a partial
// sync's) are the backend's to judge, without a parse.
func TestMayNeedChains(t *testing.T) {
	refuse := Settings{Catalog: defaults.Catalog}
	create := Settings{Catalog: defaults.Catalog, CreateUnknown: true}
	partial := "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-SVC-AAAA\n-A KUBE-SERVICES -j DOCKER\nCOMMIT\n"
	marks := "*nat\n:KUBE-SEP-A - [0:0]\n-A KUBE-SEP-A -j KUBE-MARK-MASQ\nCOMMIT\n"
	wrongTable := "*filter\n:KUBE-SEP-A - [0:0]\n-A KUBE-SEP-A -j KUBE-MARK-MASQ\nCOMMIT\n"
	for _, tc := range []struct {
		input string
		s     Settings
		want  bool
	}{
		{partial, refuse, false},
		{partial, create, true},
		{marks, refuse, true},
		{wrongTable, refuse, false},
	} {
		if got := MayNeedChains([]byte(tc.input), syntax.RestoreFlags{NoFlush: true}, syntax.IPv4, tc.s); got != tc.want {
			t.Errorf("create=%v %q: got %v, want %v", tc.s.CreateUnknown, tc.input, got, tc.want)
		}
	}
}
