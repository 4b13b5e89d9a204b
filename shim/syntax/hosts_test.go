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
