package syntax

import (
	"bytes"
	"errors"
	"testing"

	"github.com/iptables-shim/iptables-shim/shim/ipterr"
)

func TestVersionedAndReport(t *testing.T) {
	refusal := ipterr.AtLine(ipterr.Parameter, 7, "Couldn't load target `CT':No such file or directory")
	err := Versioned(refusal)
	var b bytes.Buffer
	if code := Report(&b, "iptables-restore", "", "", err); code != 2 {
		t.Errorf("exit %d", code)
	}
	want := "iptables-restore v" + Version + " (nf_tables): Couldn't load target `CT':No such file or directory\n" +
		"Error occurred at line: 7\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	if !errors.Is(err, refusal) {
		t.Error("Versioned lost the cause")
	}
	if Versioned(nil) != nil || Versioned(err) != err {
		t.Error("Versioned changed nil or an already shaped error")
	}
	b.Reset()
	if code := Report(&b, "iptables", "", "nf_tables", errors.New("plain")); code != 1 || b.String() != "plain\n" {
		t.Errorf("plain error: exit %d, %q", code, b.String())
	}
}
