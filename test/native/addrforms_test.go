package native_test

import "testing"

// addrForms4 are -s/-d values in the forms libxtables reads: its own
// dotted parser (networks of fewer than four parts, bytes in C's base 0),
// getaddrinfo's numeric forms after it, masks as prefix lengths in base 0
// or as addresses, a null mask that makes the host part meaningless (what
// go-iptables' own tests send as "-s 0/0"), and the refusals. Before, the
// shim refused "0/0", "10", "127.1" and "fe80::1%lo" as not found.
var addrForms4 = []string{
	"0/0", "0", "10", "10.1", "10.1.2", "127.1", "010.1.2.3", "0x0a.0.0.1", "4294967295", "1.65535",
	"1.2.3.256", "1.2.3.4.5", "10/8", "0/0.0.0.0", "1.2.3.4/255.255.0.0", "1.2.3.4/255.0.255.0",
	"1.2.3.4/0x10", "1.2.3.4/+8", "1.2.3.4/08", "1.2.3.4/33", "1.2.3.4/-1", "10.1/16",
	"\" 1.2.3.4\"", "no-such-host.invalid/0", "1.2.3.4,0/0,10",
}

var addrForms6 = []string{
	"0/0", "0", "::/0", "0::0/0", "::1/64", "1", "10.1.2.3", "::ffff:1.2.3.4", "fe80::1%lo",
	"fe80::1%nope", "::1/ffff::", "::1/ffff:0:ffff::", "::1/0x40", "::1/129",
}

func TestAddressFormsDifferential(t *testing.T) {
	for _, fam := range []string{"4", "6"} {
		t.Run("v"+fam, func(t *testing.T) {
			p := newPair(t)
			forms := addrForms4
			if fam == "6" {
				forms = addrForms6
			}
			for _, a := range forms {
				p.both(progFor(fam), "-A INPUT -s "+a+" -j ACCEPT")
				p.both(progFor(fam), "-A OUTPUT ! -d "+a)
				p.both(progFor(fam), "-C INPUT -s "+a+" -j ACCEPT")
			}
			p.both(progFor(fam), "-A INPUT ! -s 1.2.3.4 -d 5.6.7.8,9.9.9.9")
			p.both(progFor(fam), "-S")
			p.state("address forms")
			p.report()
		})
	}
}
