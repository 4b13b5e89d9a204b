package guard

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// fakeChains is a backend holding the given table/chain names.
type fakeChains map[string]bool

func (f fakeChains) Existing(table string, names []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, n := range names {
		if f[table+"/"+n] {
			out[n] = true
		}
	}
	return out, nil
}

var defaults = Settings{Catalog: Catalog{Era: "1.13", DropBit: 15, MasqueradeBit: 14}, CreateUnknown: true}

// ipvs113 is the shape of kube-proxy 1.13's IPVS sync: KUBE-FIREWALL jumps
// to KUBE-MARK-DROP, which it never declares.
const ipvs113 = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x00004000/0x00004000 -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x00004000/0x00004000
-A KUBE-FIREWALL -j KUBE-MARK-DROP
-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ
COMMIT
*filter
:KUBE-FORWARD - [0:0]
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
COMMIT
`

func parse(t *testing.T, s string) *syntax.Payload {
	t.Helper()
	p, err := syntax.ParseRestore(strings.NewReader(s), syntax.IPv4)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

func render(t *testing.T, p *syntax.Payload) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Render(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestIncidentPayloadGetsKubeMarkDrop(t *testing.T) {
	p := parse(t, ipvs113)
	plan, err := PlanRestore(p, syntax.RestoreFlags{NoFlush: true, Counters: true}, defaults, fakeChains{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Creations) != 1 {
		t.Fatalf("want KUBE-MARK-DROP only, got %+v", plan.Creations)
	}
	c := plan.Creations[0]
	if c.Table != "nat" || c.Chain != "KUBE-MARK-DROP" || c.Line != 11 || !c.Known {
		t.Errorf("creation = %+v", c)
	}
	if c.Why() != "the payload at line 11 jumps to it" {
		t.Errorf("Why = %q", c.Why())
	}
	out, lineMap, err := plan.Apply(p)
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, out)
	want := strings.Replace(ipvs113, "*nat\n", "*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n", 1)
	if got != want {
		t.Errorf("rewritten payload:\n%s\nwant:\n%s", got, want)
	}
	// Line 1 stays 1; the two added lines map to the line that jumps; the
	// rest shift back by two.
	for newLine, orig := range map[int]int{1: 1, 2: 11, 3: 11, 4: 2, 13: 11, 19: 17} {
		if got := lineMap(newLine); got != orig {
			t.Errorf("lineMap(%d) = %d, want %d", newLine, got, orig)
		}
	}
	// The added lines are parsed commands, ready for the native backend.
	if l := out.Lines[2]; l.Kind != syntax.LineCommand || l.Cmd == nil || l.Cmd.Chain != "KUBE-MARK-DROP" || l.Table != "nat" {
		t.Errorf("added rule line = %+v", l)
	}
}

func TestExistingChainIsNeverTouched(t *testing.T) {
	p := parse(t, ipvs113)
	plan, err := PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, defaults, fakeChains{"nat/KUBE-MARK-DROP": true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Errorf("chain exists, yet the guard plans %+v", plan.Creations)
	}
}

func TestWithoutNoflushTheBackendDoesNotCount(t *testing.T) {
	// Without --noflush the nat table is replaced: an existing
	// KUBE-MARK-DROP would be gone, so the guard must add it.
	p := parse(t, ipvs113)
	plan, err := PlanRestore(p, syntax.RestoreFlags{}, defaults, fakeChains{"nat/KUBE-MARK-DROP": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Creations) != 1 {
		t.Errorf("want KUBE-MARK-DROP created, got %+v", plan.Creations)
	}
}

func TestTargetsMarkersAndDeclaredChainsAreLeftAlone(t *testing.T) {
	p := parse(t, `*filter
:FOO - [0:0]
-N BAR
-A INPUT -j FOO
-A INPUT -j BAR
-A INPUT -j ACCEPT
-A INPUT -j TPROXY --on-port 1
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j KUBE-IPTABLES-HINT
-A INPUT -j OUTPUT
COMMIT
`)
	plan, err := PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, defaults, fakeChains{})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Errorf("unexpected creations %+v", plan.Creations)
	}
	if len(plan.Skipped) != 1 || plan.Skipped[0].Chain != "KUBE-IPTABLES-HINT" {
		t.Errorf("skipped = %+v", plan.Skipped)
	}
}

func TestUnknownChainsCreateOrRefuse(t *testing.T) {
	p := parse(t, "*nat\n-A POSTROUTING -j CNI-MISSING\nCOMMIT\n")
	plan, _ := PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, defaults, fakeChains{})
	if len(plan.Creations) != 1 || plan.Creations[0].Known || len(plan.Creations[0].Rules) != 0 {
		t.Errorf("create-empty: %+v", plan.Creations)
	}
	refuse := defaults
	refuse.CreateUnknown = false
	plan, _ = PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, refuse, fakeChains{})
	if !plan.Empty() || len(plan.Skipped) != 1 {
		t.Errorf("refuse: %+v", plan)
	}
}

func TestCompanionsOnlyWhenAsked(t *testing.T) {
	p := parse(t, ipvs113)
	with := defaults
	with.Companions = true
	plan, _ := PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, with, fakeChains{})
	if len(plan.Creations) != 2 || plan.Creations[1].Chain != "KUBE-FIREWALL" || plan.Creations[1].Table != "filter" || !plan.Creations[1].Companion {
		t.Fatalf("companions: %+v", plan.Creations)
	}
	out, _, err := plan.Apply(p)
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, out)
	for _, want := range []string{
		"*filter\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -m comment --comment \"kubernetes firewall for dropping marked packets\" -m mark --mark 0x8000/0x8000 -j DROP\n-I INPUT -j KUBE-FIREWALL\n-I OUTPUT -j KUBE-FIREWALL\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("payload lacks %q:\n%s", want, got)
		}
	}
	// The filter table exists in the backend with KUBE-FIREWALL: not again.
	plan, _ = PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, with, fakeChains{"filter/KUBE-FIREWALL": true})
	if len(plan.Creations) != 1 {
		t.Errorf("companion recreated: %+v", plan.Creations)
	}
}

func TestCompanionNeverAddsATableBlockThatWouldFlush(t *testing.T) {
	p := parse(t, "*nat\n-A POSTROUTING -j KUBE-MARK-DROP\nCOMMIT\n")
	with := defaults
	with.Companions = true
	plan, _ := PlanRestore(p, syntax.RestoreFlags{}, with, fakeChains{})
	if len(plan.Creations) != 1 {
		t.Errorf("without --noflush a *filter block would replace the filter table: %+v", plan.Creations)
	}
	plan, _ = PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, with, fakeChains{})
	out, _, _ := plan.Apply(p)
	if got := render(t, out); !strings.HasSuffix(got, "COMMIT\n*filter\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -m comment --comment \"kubernetes firewall for dropping marked packets\" -m mark --mark 0x8000/0x8000 -j DROP\n-I INPUT -j KUBE-FIREWALL\n-I OUTPUT -j KUBE-FIREWALL\nCOMMIT\n") {
		t.Errorf("noflush companion block:\n%s", got)
	}
}

func TestTableFlagLimitsTheGuard(t *testing.T) {
	p := parse(t, ipvs113)
	plan, _ := PlanRestore(p, syntax.RestoreFlags{NoFlush: true, Table: "filter"}, defaults, fakeChains{})
	if !plan.Empty() {
		t.Errorf("-T filter, yet nat chains planned: %+v", plan.Creations)
	}
}

func TestPlanCommand(t *testing.T) {
	cmd, err := syntax.ParseCommand([]string{"-w", "5", "-A", "KUBE-FIREWALL", "-t", "nat", "-j", "KUBE-MARK-DROP"}, syntax.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanCommand(cmd, defaults, fakeChains{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Creations) != 1 || plan.Creations[0].Why() != "the command jumps to it" {
		t.Fatalf("plan = %+v", plan)
	}
	p, err := plan.Payload(syntax.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	if got := render(t, p); got != "*nat\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\nCOMMIT\n" {
		t.Errorf("payload:\n%s", got)
	}
	for _, args := range [][]string{
		{"-C", "KUBE-FIREWALL", "-t", "nat", "-j", "KUBE-MARK-DROP"},
		{"-A", "INPUT", "-j", "ACCEPT"},
		{"-N", "KUBE-MARK-DROP", "-t", "nat"},
	} {
		cmd, err := syntax.ParseCommand(args, syntax.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		if plan, _ := PlanCommand(cmd, defaults, fakeChains{}); !plan.Empty() {
			t.Errorf("%v planned %+v", args, plan.Creations)
		}
	}
}

func TestCatalogBitsAndEras(t *testing.T) {
	c := Catalog{Era: "1.19", DropBit: 16, MasqueradeBit: 13}
	e, ok := c.Lookup("nat", "KUBE-MARK-DROP")
	if !ok || e.Rules[0] != "-j MARK --set-xmark 0x10000/0x10000" {
		t.Errorf("drop bit 16: %+v", e)
	}
	e, _ = c.Lookup("nat", "KUBE-POSTROUTING")
	if len(e.Rules) != 3 || e.Rules[0] != "-m mark ! --mark 0x2000/0x2000 -j RETURN" {
		t.Errorf("1.19 KUBE-POSTROUTING: %+v", e)
	}
	if _, ok := c.Lookup("filter", "KUBE-MARK-DROP"); ok {
		t.Error("KUBE-MARK-DROP lives in nat only")
	}
}

// TestCommittedBefore: a restore that fails in a later table keeps the
// earlier tables, and the guard's chains in them; the failing table's and
// later ones are gone.
func TestCommittedBefore(t *testing.T) {
	in := "*nat\n:TEST-FW - [0:0]\n-A TEST-FW -j KUBE-MARK-DROP\nCOMMIT\n*filter\n:TEST-B - [0:0]\n-A TEST-B -j DOCKER\nCOMMIT\n"
	p := parse(t, in)
	plan, err := PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, Settings{Catalog: defaults.Catalog}, fakeChains{})
	if err != nil {
		t.Fatal(err)
	}
	rewritten, _, err := plan.Apply(p)
	if err != nil {
		t.Fatal(err)
	}
	// Rewritten: *nat, 2 added lines, 3 lines, COMMIT at line 6; the
	// filter section fails at its COMMIT, line 10.
	for _, tc := range []struct {
		line int
		want int
	}{{0, 0}, {3, 0}, {6, 0}, {7, 1}, {10, 1}} {
		if got := plan.CommittedBefore(rewritten, tc.line); len(got) != tc.want {
			t.Errorf("failure at line %d: %d creations committed, want %d", tc.line, len(got), tc.want)
		}
	}
	if len(plan.Skipped) != 1 || plan.Skipped[0].Chain != "DOCKER" {
		t.Errorf("DOCKER must be left missing by default, got %+v", plan.Skipped)
	}
}

// TestChainsJoinTheirOwnTable: each added chain is declared and filled
// inside the section of its own table, so it commits with that table's
// COMMIT and with nothing else; a companion goes into its own table's
// section too.
func TestChainsJoinTheirOwnTable(t *testing.T) {
	in := "*filter\n:TEST-F - [0:0]\n-A TEST-F -j ACCEPT\nCOMMIT\n*nat\n:TEST-N - [0:0]\n-A TEST-N -j KUBE-MARK-DROP\nCOMMIT\n*mangle\n:TEST-M - [0:0]\nCOMMIT\n"
	p := parse(t, in)
	s := Settings{Catalog: defaults.Catalog, Companions: true}
	plan, err := PlanRestore(p, syntax.RestoreFlags{NoFlush: true}, s, fakeChains{})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := plan.Apply(p)
	if err != nil {
		t.Fatal(err)
	}
	section := map[string]string{} // chain declared -> table of its section
	table := ""
	for _, l := range out.Lines {
		switch l.Kind {
		case syntax.LineTable:
			table = l.Table
		case syntax.LineCommit:
			table = ""
		case syntax.LineChain:
			section[l.Chain.Name] = table
		}
	}
	for chain, want := range map[string]string{"KUBE-MARK-DROP": "nat", "KUBE-FIREWALL": "filter", "TEST-M": "mangle"} {
		if section[chain] != want {
			t.Errorf("%s declared in the %q section, want %q:\n%s", chain, section[chain], want, render(t, out))
		}
	}
	if got := strings.Count(render(t, out), "COMMIT"); got != 3 {
		t.Errorf("want the caller's three COMMITs and no more, got %d", got)
	}
}
