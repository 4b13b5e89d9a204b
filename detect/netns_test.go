package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iptables-shim/iptables-shim/detect/helperproc"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/backend"
)

// netnsState is what helperNetNSState reports about the namespace it runs in.
type netnsState struct {
	NS       NetNS
	Created  []CreatedChain
	GuardOff bool
	Decision Decision
}

// helperNetNSState optionally records a created chain and an unguarded call
// (T_RECORD=1), then reports the namespace's identity, its created chains,
// whether it has unguarded calls, and its decision (cached or not).
func helperNetNSState() int {
	cache := os.Getenv("T_CACHE")
	if os.Getenv("T_RECORD") == "1" {
		if err := RecordCreated(cache, CreatedChain{Mode: backend.Legacy, Family: FamilyIPv4, Table: "nat", Chain: "KUBE-MARK-DROP"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := RecordGuardOff(cache, GuardOff{Program: "iptables-restore", Mode: backend.NFT, Error: "test"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	var st netnsState
	var err error
	if st.NS, err = CurrentNetNS(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	set, err := LoadCreated(cache)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for c := range set {
		st.Created = append(st.Created, c)
	}
	_, st.GuardOff, _ = LoadGuardOff(cache)
	if st.Decision, err = Resolve(context.Background(), Options{CacheDir: cache, NoHostHints: true, Wait: -1}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(st); err != nil {
		return 1
	}
	return 0
}

// TestNewNamespaceInheritsNothing: a namespace records a created chain, an
// unguarded call and a decision, and dies; new namespaces, the kernel
// handing one of them the dead one's inode, must inherit none of it. Each
// `unshare --net` gives the helper a namespace that dies with it.
func TestNewNamespaceInheritsNothing(t *testing.T) {
	netnstest.Require(t, "unshare")
	ns := netnstest.New(t)
	cache := t.TempDir()
	run := func(record bool) netnsState {
		t.Helper()
		env := []string{"T_CACHE=" + cache}
		if record {
			env = append(env, "T_RECORD=1")
		}
		r := helperproc.RunVia(t, ns, []string{"unshare", "--net"}, "netns-state", env...)
		if r.Code != 0 {
			t.Fatalf("netns-state helper: %s", r)
		}
		var st netnsState
		if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
			t.Fatalf("decoding %q: %v", r.Stdout, err)
		}
		return st
	}
	first := run(true)
	if len(first.Created) != 1 || !first.GuardOff || first.NS.Cookie == 0 {
		t.Fatalf("the first namespace's own records are missing: %+v", first)
	}
	reused := false
	for i := 0; i < 20 && !reused; i++ {
		st := run(false)
		reused = st.NS.Inode == first.NS.Inode
		if st.NS.Cookie == first.NS.Cookie {
			t.Fatalf("two namespaces share cookie %d", st.NS.Cookie)
		}
		if len(st.Created) != 0 || st.GuardOff || st.Decision.Cached {
			t.Fatalf("namespace %+v (inode reused: %v) inherited the dead one's records: created %+v, unguarded calls %v, cached decision %v",
				st.NS, reused, st.Created, st.GuardOff, st.Decision.Cached)
		}
		if !reused {
			time.Sleep(100 * time.Millisecond) // the kernel frees a namespace's inode asynchronously
		}
	}
	t.Logf("a new namespace got the dead one's inode %d: %v", first.NS.Inode, reused)

	// The dead namespace's files are swept: its inode is free, or taken by
	// another namespace.
	current, err := CurrentNetNS()
	if err != nil {
		t.Fatal(err)
	}
	// On a busy machine (other tests make and delete namespaces at the
	// same time) an inode can change hands around the sweep: only records
	// whose inode nobody held before the sweep and nobody holds after it
	// must be gone.
	liveBefore, completeBefore := liveNetNSInodes()
	removed := Sweep(cache, current)
	liveAfter, completeAfter := liveNetNSInodes()
	complete := completeBefore && completeAfter
	live := liveAfter
	for ino := range liveBefore {
		live[ino] = true
	}
	for _, dir := range recordDirs(cache) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			var h recordHeader
			data, _ := os.ReadFile(f)
			if json.Unmarshal(data, &h) != nil || (complete && !live[h.Inode]) {
				t.Errorf("record of a dead namespace left after the sweep: %s (%+v)", f, h)
			}
		}
	}
	if len(removed) == 0 {
		t.Error("the sweep removed nothing")
	}
}

// TestRecordsOfAReusedInodeAreNotInherited plays the kernel reusing this
// namespace's inode: files carrying the inode under another identity (an
// older cookie, an earlier boot, the old inode-keyed format) are never this
// namespace's, and a sweep removes them.
func TestRecordsOfAReusedInodeAreNotInherited(t *testing.T) {
	cache := t.TempDir()
	me, err := CurrentNetNS()
	if err != nil {
		t.Skipf("no namespace identity here: %v", err)
	}
	dead := me
	dead.Cookie = me.Cookie + 1000
	earlierBoot := me // same identity, written in an earlier boot
	write := func(path string, v any) {
		t.Helper()
		data, _ := json.Marshal(v)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chains := []CreatedChain{{Mode: backend.NFT, Family: FamilyIPv4, Table: "nat", Chain: "KUBE-MARK-DROP"}}
	for i, other := range []NetNS{dead, earlierBoot} {
		hdr := header(other)
		if i == 1 {
			hdr.Boot = "00000000-0000-0000-0000-000000000000"
		}
		rec := struct {
			recordHeader
			Body []CreatedChain `json:"record"`
		}{hdr, chains}
		// Filed under this namespace's own key, as a file of the earlier
		// namespace with the same key would be.
		write(filepath.Join(cache, createdDir, me.Key()+".json"), rec)
		if i == 1 {
			backdate(t, filepath.Join(cache, createdDir, me.Key()+".json"))
		}
		if set, err := LoadCreated(cache); err != nil || len(set) != 0 {
			t.Errorf("created chains of %+v taken for this namespace's: %v %v", other, set, err)
		}
		write(cachePath(cache, me), cacheEntry{recordHeader: hdr, Policy: Options{}.withDefaults().fingerprint(), Decision: Decision{Mode: backend.Legacy, Reason: ReasonDefault}})
		if i == 1 {
			backdate(t, cachePath(cache, me))
		}
		if _, _, ok := readCache(cachePath(cache, me), me, Options{}.withDefaults().fingerprint()); ok {
			t.Errorf("decision of %+v taken for this namespace's", other)
		}
	}
	// The format before namespace identities: keyed by inode alone.
	old := filepath.Join(cache, createdDir, fmt.Sprintf("%d.json", me.Inode))
	write(old, chains)
	oldCache := filepath.Join(cache, fmt.Sprintf("netns-%d.json", me.Inode))
	write(oldCache, map[string]any{"version": 1, "netns": me.Inode, "decision": map[string]string{"mode": "legacy"}})

	removed := Sweep(cache, me)
	if len(removed) != 4 {
		t.Errorf("swept %v, want the two old-format files and the other identity's decision and chains", removed)
	}
	for _, p := range []string{old, oldCache, cachePath(cache, me)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s survived the sweep", p)
		}
	}

	// This namespace's own records survive a sweep.
	if err := RecordCreated(cache, chains...); err != nil {
		t.Fatal(err)
	}
	Sweep(cache, me)
	if set, _ := LoadCreated(cache); len(set) != 1 {
		t.Errorf("own created chains lost in a sweep: %v", set)
	}
}

// TestOldKernelCachesOnlyTheInitialNamespace plays a kernel without
// SO_NETNS_COOKIE: the initial namespace is keyed "init"; another namespace
// gets no key, so nothing is cached or recorded for it.
func TestOldKernelCachesOnlyTheInitialNamespace(t *testing.T) {
	saved := netnsCookie
	netnsCookie = func() (uint64, error) { return 0, fmt.Errorf("protocol not available") }
	defer func() { netnsCookie = saved }()
	n, err := CurrentNetNS()
	if !isInitialNetNS(n.Inode) {
		t.Skip("this test process is not in the initial network namespace")
	}
	if err != nil || n.Key() != "init" {
		t.Fatalf("initial namespace without cookies: key %q, %v", n.Key(), err)
	}
	other := NetNS{Inode: n.Inode + 1, Boot: n.Boot}
	if other.Key() != "" || other.Same(other) {
		t.Errorf("a non-initial namespace without a cookie has key %q", other.Key())
	}
	if !strings.Contains(ErrNoNetNSIdentity.Error(), "5.14") {
		t.Error("the error does not say which kernel has cookies")
	}
}

// BenchmarkCurrentNetNS is the identity's share of every warm call: a stat,
// the boot id and a socket's cookie. BenchmarkNetNSInode is the stat alone,
// which was all the inode key cost.
func BenchmarkCurrentNetNS(b *testing.B) {
	for b.Loop() {
		if _, err := CurrentNetNS(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNetNSInode(b *testing.B) {
	for b.Loop() {
		if _, err := nsInode("/proc/thread-self/ns/net"); err != nil {
			b.Fatal(err)
		}
	}
}

// backdate sets a file's times to before this boot.
func backdate(t *testing.T, path string) {
	t.Helper()
	old := bootTime().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}
