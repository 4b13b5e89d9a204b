package kubefixture

import (
	"strings"
	"testing"
)

func TestMarkDropLine(t *testing.T) {
	lines := strings.Split(ProxyIPVS113, "\n")
	if got := lines[ProxyIPVS113MarkDropLine-1]; !strings.HasSuffix(got, "-j KUBE-MARK-DROP") {
		t.Errorf("line %d is %q, not the jump to KUBE-MARK-DROP", ProxyIPVS113MarkDropLine, got)
	}
	if strings.Contains(ProxyIPVS113, ":KUBE-MARK-DROP") {
		t.Error("the proxier's payload must not declare KUBE-MARK-DROP")
	}
}
