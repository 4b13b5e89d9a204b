package nftread

import (
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestListCounterColumns(t *testing.T) {
	for _, c := range []struct {
		n              uint64
		exact, notable bool
		want           string
	}{
		{0, false, false, "    0 "},
		{99999, false, false, "99999 "},
		{123456, false, false, " 123K "},
		{98765432101, false, false, "  99G "},
		{9999499999999999, false, false, "10000T "},
		{5000000000000, false, false, "5000G "},
		{50000000000000, false, false, "  50T "},
		{123456, false, true, "123K "},
		{123456, true, false, "  123456 "},
		{98765432101, true, false, "98765432101 "},
		{7, true, true, "7 "},
	} {
		lp := &LinePrinter{Format: ListFormat{Exact: c.exact}}
		if got := string(lp.num(nil, c.n, c.notable)); got != c.want {
			t.Errorf("num(%d, exact=%v, notable=%v) = %q, want %q", c.n, c.exact, c.notable, got, c.want)
		}
	}
}

func TestSaveWords(t *testing.T) {
	for in, want := range map[string]string{
		`-m comment --comment "it\'s quoted"`: `-m|comment|--comment|it's quoted`,
		`-m comment --comment ""`:             `-m|comment|--comment|`,
		`-j LOG --log-prefix "a \"b\" "`:      `-j|LOG|--log-prefix|a "b" `,
		`-m tcp ! --dport 80`:                 `-m|tcp|!|--dport|80`,
	} {
		got, err := SaveWords(in)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("saveWords(%q) = %q, %v; want %q", in, strings.Join(got, "|"), err, want)
		}
	}
	if _, err := SaveWords(`--comment "open`); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}

func TestMarkAction(t *testing.T) {
	for _, c := range []struct {
		v, m uint32
		want string
	}{
		{0x4000, 0x4000, "or 0x4000"}, {0x4000, 0, "xor 0x4000"}, {0, 0xffff0000, "and 0xffff"},
		{0x10, 0xffffffff, "set 0x10"}, {0x10, 0xff, "xset 0x10/0xff"}, {0, 0xffffffff, "and 0x0"},
	} {
		if got := markAction(c.v, c.m); got != c.want {
			t.Errorf("markAction(%#x, %#x) = %q, want %q", c.v, c.m, got, c.want)
		}
	}
}

func TestNamesFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := dir + "/" + name
		if err := writeFile(p, text); err != nil {
			t.Fatal(err)
		}
		return p
	}
	n := NewNames(nameFiles{
		hosts:    write("hosts", "127.0.0.1 localhost box\n# comment\n10.0.0.1 first\n10.0.0.1 second\n::1 ip6-localhost\n"),
		networks: write("networks", "loopback 127.0.0.0\nlink-local 169.254\n"),
		services: write("services", "http 80/tcp www\nhttp-alt 80/tcp\ndomain 53/udp\n"),
	})
	for in, want := range map[string]string{"127.0.0.1": "localhost", "10.0.0.1": "first", "127.0.0.0": "loopback",
		"169.254.0.0": "link-local", "10.9.9.9": "10.9.9.9", "::1": "ip6-localhost"} {
		if got := n.addr(mustAddr(t, in)); got != want {
			t.Errorf("addr(%s) = %s, want %s", in, got, want)
		}
	}
	if got := n.port("80", "tcp"); got != "http" {
		t.Errorf("port 80/tcp = %s", got)
	}
	if got := n.port("80", "udp"); got != "80" {
		t.Errorf("port 80/udp = %s", got)
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
