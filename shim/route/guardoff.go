package route

import (
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/calllog"
)

// noteGuardLookup is told the outcome of the guard's chain lookup. When it
// failed, the call goes on unguarded (a backend the guard cannot ask is no
// reason to fail the call), and that must not pass silently: it is logged
// (event=guard-disabled) and handed to Router.GuardOff, which cmd wires to
// the network namespace's record (detect.RecordGuardOff), so that
// `iptables-shim doctor` reports it. Best effort, like the created-chains
// record: nothing here may fail the call.
func (r *Router) noteGuardLookup(mode backend.Mode, c *backend.Call, err error) {
	if err == nil {
		return
	}
	r.Log.Log("guard-disabled",
		calllog.F("name", c.Name()),
		calllog.F("mode", mode),
		calllog.F("error", err),
		calllog.F("detail", "the guard could not look up which chains exist, so this call runs without it"))
	if r.GuardOff != nil {
		r.GuardOff(mode, c, err)
	}
}
