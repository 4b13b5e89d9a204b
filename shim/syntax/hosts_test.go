package syntax

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

func fakeLookup(host string, fam Family) ([]netip.Addr, error) {
	switch host {
	case "localhost":
		if fam == IPv6 {
			return []netip.Addr{netip.MustParseAddr("::1")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	case "two.example":
		return []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}, nil
	}
	return nil, errors.New("no such host")
}

func TestExpandAddresses(t *testing.T) {
	for _, tc := range []struct {
		args string
		want []string // -s/-d of each command, "s d"
		err  string
	}{
		{"-A INPUT -j ACCEPT", []string{" "}, ""},
		{"-A INPUT -s 10.0.0.1 -j ACCEPT", []string{"10.0.0.1 "}, ""},
		{"-A INPUT -s localhost -j ACCEPT", []string{"127.0.0.1 "}, ""},
		{"-A INPUT -s localhost/8 -j ACCEPT", []string{"127.0.0.1/8 "}, ""},
		{"-A INPUT -s localhost,10.1.1.1 -d 10.2.2.2,two.example -j ACCEPT",
			[]string{"127.0.0.1 10.2.2.2", "127.0.0.1 192.0.2.1", "127.0.0.1 192.0.2.2", "10.1.1.1 10.2.2.2", "10.1.1.1 192.0.2.1", "10.1.1.1 192.0.2.2"}, ""},
		{"-A INPUT -s 10.1.1.1,10.1.1.1 -j ACCEPT", []string{"10.1.1.1 ", "10.1.1.1 "}, ""},
		{"-A INPUT -s nosuch.invalid -j ACCEPT", nil, "host/network `nosuch.invalid' not found"},
		{"-R INPUT 1 -s two.example -j ACCEPT", nil, "Replacement rule does not specify a unique address"},
		{"-R INPUT 1 -s localhost -j ACCEPT", []string{"127.0.0.1 "}, ""},
	} {
		cmd, err := ParseCommand(strings.Fields(tc.args), IPv4)
		if err != nil {
			t.Fatalf("%s: %v", tc.args, err)
		}
		got, err := ExpandAddresses(cmd, fakeLookup)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || ipterr.ClassOf(err) != ipterr.Parameter {
				t.Errorf("%s: want %q, got %v", tc.args, tc.err, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.args, err)
		}
		var sd []string
		for _, c := range got {
			sd = append(sd, c.Rule.Source.Value+" "+c.Rule.Dest.Value)
		}
		if strings.Join(sd, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %q, want %q", tc.args, sd, tc.want)
		}
		if !strings.Contains(tc.args, ",") && !strings.Contains(tc.args, "localhost") && !strings.Contains(tc.args, "example") && got[0] != cmd {
			t.Errorf("%s: a command needing no expansion must come back untouched", tc.args)
		}
	}
}

func TestCanonicalAddress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fam  Family
		want string // "" for a refusal
	}{
		{"0/0", IPv4, "0.0.0.0/0"}, {"anything/0", IPv4, "0.0.0.0/0"}, {"10", IPv4, "10.0.0.0"},
		{"127.1", IPv4, "127.1.0.0"}, {"010.1.2.3", IPv4, "8.1.2.3"}, {"0x0a.0.0.1", IPv4, "10.0.0.1"},
		{"4294967295", IPv4, "255.255.255.255"}, {"1.65535", IPv4, "1.0.255.255"},
		{"1.2.3.4/0x10", IPv4, "1.2.3.4/16"}, {"1.2.3.4/255.0.255.0", IPv4, "1.2.3.4/255.0.255.0"},
		{"1.2.3.4/255.255.0.0", IPv4, "1.2.3.4/16"}, {"1.2.3.4/08", IPv4, ""}, {"1.2.3.256", IPv4, ""},
		{"host.example/24", IPv4, "host.example/24"}, {"host.example/0x8", IPv4, "host.example/8"}, {"::1", IPv4, ""},
		{"0/0", IPv6, "::/0"}, {"0", IPv6, ""}, {"10.1.2.3", IPv6, ""}, {"fe80::1%lo", IPv6, "fe80::1"},
		{"::1/ffff::", IPv6, "::1/16"}, {"::1/129", IPv6, ""},
	} {
		got, err := CanonicalAddress(tc.in, tc.fam)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s (%v): got %q, want a refusal", tc.in, tc.fam, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s (%v): got %q, %v; want %q", tc.in, tc.fam, got, err, tc.want)
		}
	}
}

// FuzzCanonicalAddress: reading never panics, and the canonical form reads
// back as itself.
func FuzzCanonicalAddress(f *testing.F) {
	for _, s := range []string{"0/0", "10.1/16", "1.2.3.4/255.0.255.0", "::1/ffff::", "0x0a.010.1.+1/+0x8", "fe80::1%1"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, six bool) {
		fam := IPv4
		if six {
			fam = IPv6
		}
		c, err := CanonicalAddress(s, fam)
		if err != nil {
			return
		}
		again, err := CanonicalAddress(c, fam)
		if err != nil || again != c {
			t.Fatalf("%q reads as %q, which reads as %q, %v", s, c, again, err)
		}
	})
}
