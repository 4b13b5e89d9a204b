package doctor

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/detect/ruleset"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
)

// guardLog writes guard-created records the way shim/route does.
func guardLog(t *testing.T, records ...[]calllog.Field) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "calls.log")
	l := calllog.Open(p)
	defer l.Close()
	l.Log("call", calllog.F("name", "iptables-restore"), calllog.F("detail", "mode set by env IPTABLES_SHIM_MODE"))
	for _, fields := range records {
		l.Log("guard-created", fields...)
	}
	return p
}

func created(name, backendName, table, chain, why string) []calllog.Field {
	return []calllog.Field{
		calllog.F("name", name), calllog.F("backend", backendName), calllog.F("table", table), calllog.F("chain", chain),
		calllog.F("known", true), calllog.F("detail", "created "+chain+" in "+backendName+" "+table+" because "+why),
	}
}

func TestCreatedChainsFromFileAndLog(t *testing.T) {
	cache := t.TempDir()
	// The created-chains file of this process's network namespace; the
	// doctor only reads it.
	if err := detect.RecordCreated(cache,
		detect.CreatedChain{Mode: backend.NFT, Family: "ipv4", Table: "nat", Chain: "KUBE-MARK-DROP"},
		detect.CreatedChain{Mode: backend.NFT, Family: "ipv6", Table: "nat", Chain: "KUBE-MARK-DROP"},
		detect.CreatedChain{Mode: backend.NFT, Family: "ipv4", Table: "filter", Chain: "KUBE-FIREWALL"},
	); err != nil {
		t.Fatal(err)
	}
	calls, err := scanLog(guardLog(t,
		created("iptables-restore", "nf_tables", "nat", "KUBE-MARK-DROP", "the payload at line 4 jumps to it"),
		created("iptables-restore", "nf_tables", "nat", "KUBE-MARK-DROP", "the payload at line 11 jumps to it"),
		created("ip6tables", "nf_tables", "nat", "KUBE-MARK-DROP", "the command jumps to it"),
		// Another namespace's creation in a shared log: not listed.
		created("iptables-restore", "legacy", "nat", "KUBE-MARK-DROP", "the payload at line 2 jumps to it"),
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls.failed) != 0 {
		t.Errorf("failed restores %+v", calls.failed)
	}
	got, err := createdChains(cache, calls.createdWhy)
	if err != nil {
		t.Fatal(err)
	}

	r := Report{Created: got, Decision: detect.Decision{Mode: backend.NFT}, Kernel: Kernel{NFTables: Facility{Available: true}}}
	analyze(&r, inventory([]ruleset.Table{tbl("nat", "KUBE-SERVICES", "KUBE-FIREWALL:x>KUBE-MARK-DROP", "KUBE-MARK-DROP:x")}, nil), nil)
	var lines []string
	for _, c := range r.Created {
		lines = append(lines, createdText(c))
	}
	want := []string{
		"KUBE-FIREWALL in nf_tables ipv4 filter; no longer there",
		// The latest record is the creation that made the chain there now.
		"KUBE-MARK-DROP in nf_tables ipv4 nat (the payload at line 11 jumps to it)",
		"KUBE-MARK-DROP in nf_tables ipv6 nat (the command jumps to it); no longer there",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("created chains:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if r.Verdict != Healthy || len(r.Problems) != 0 {
		t.Errorf("verdict %s, problems %+v: created chains are information", r.Verdict, r.Problems)
	}
	var b strings.Builder
	Render(&b, r, false)
	if !strings.Contains(b.String(), "created by the shim:  KUBE-MARK-DROP in nf_tables ipv4 nat (the payload at line 11 jumps to it)\n") {
		t.Errorf("rendering:\n%s", b.String())
	}
}

func TestCreatedChainIsNotKubeletsDoing(t *testing.T) {
	// The guard made KUBE-MARK-DROP in nf_tables for kube-proxy; kubelet's
	// chains are in legacy. Kubelet must not look like it uses both.
	nft := []ruleset.Table{tbl("nat", "KUBE-SERVICES", "KUBE-MARK-DROP:x")}
	cs := createdSet([]CreatedChain{{Mode: backend.NFT, Family: "ipv4", Table: "nat", Chain: "KUBE-MARK-DROP"}})
	s := findSplit(inventory(nft, kubeletNFT()), cs)
	if s == nil || modes(s.Kubelet) != "legacy" || modes(s.KubeProxy) != "nf_tables" {
		t.Errorf("split %+v", s)
	}
}

func TestLogfmtFields(t *testing.T) {
	line := `2026-11-29T10:00:00Z pid=7 event=guard-created name=ip6tables-restore detail="created \"X\" in legacy nat because a=b" empty="" last=z`
	f := logfmtFields(line)
	for k, v := range map[string]string{"pid": "7", "event": "guard-created", "name": "ip6tables-restore",
		"detail": `created "X" in legacy nat because a=b`, "empty": "", "last": "z"} {
		if got, ok := f[k]; !ok || got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	c, why, ok := parseGuardCreated(line + " table=nat chain=X backend=legacy")
	if !ok || c != (detect.CreatedChain{Mode: backend.Legacy, Family: "ipv6", Table: "nat", Chain: "X"}) || why != "a=b" {
		t.Errorf("parsed %+v %q %v", c, why, ok)
	}
	if _, _, ok := parseGuardCreated(`event=guard-created detail="unterminated`); ok {
		t.Error("a record without table and chain parsed")
	}
}
