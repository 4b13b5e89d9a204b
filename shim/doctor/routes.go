package doctor

import (
	"fmt"
	"strings"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/config"
	"github.com/iptables-shim/iptables-shim/shim/execbackend"
)

// Ways a call can be carried out (Route.Via).
const (
	ViaBinary = "binary"
	ViaNative = "native"
	ViaNone   = "none"
)

// routePolicy is what decides between a real binary and the native
// nf_tables backend: the config "nft" setting and whether the native
// backend is built in.
type routePolicy struct {
	nft    string
	native bool
}

// findRoutes says, for each mode and program, what the shim would run.
func findRoutes(opts execbackend.LocateOptions, p routePolicy) []Route {
	var out []Route
	for _, mode := range []backend.Mode{backend.NFT, backend.Legacy} {
		for _, fam := range detect.Families() {
			for _, tool := range []backend.Tool{backend.Iptables, backend.Save, backend.Restore} {
				bin, err := execbackend.Locate(opts, mode, fam, tool)
				out = append(out, p.route(mode, backend.ProgramName(tool, fam), bin, err))
			}
		}
	}
	return out
}

// route applies the router's choice (shim/route's pick) to one located (or
// missing) binary: legacy always needs a real binary; nf_tables uses the
// native backend (nft=auto and nft=native), handing what it cannot do to a
// real iptables-nft when there is one; nft=exec switches the native backend
// off.
func (p routePolicy) route(mode backend.Mode, program string, bin execbackend.Binary, locateErr error) Route {
	r := Route{Mode: mode, Program: program}
	if locateErr == nil {
		r.Binary, r.Argv0, r.Found = bin.Path, bin.Argv0, bin.Found
	}
	nft := p.nft
	if nft == "" {
		nft = config.NFTAuto
	}
	useNative := mode == backend.NFT && p.native && (nft == config.NFTNative || nft == config.NFTAuto)
	switch {
	case useNative && locateErr == nil:
		r.Via, r.Why = ViaNative, fmt.Sprintf("nft=%s: the native nf_tables backend; what it cannot do goes to %s", nft, bin.Path)
	case useNative:
		r.Via, r.Why = ViaNative, "no iptables-nft binary in this image: the shim's native nf_tables backend serves the call"
	case locateErr == nil:
		r.Via, r.Why = ViaBinary, "the real "+string(bin.Kind)+" binary"
	case mode == backend.NFT && nft == config.NFTExec && p.native:
		r.Via, r.Why = ViaNone, "no iptables-nft binary in this image, and nft=exec switches the native backend off"
	case mode == backend.NFT && !p.native:
		r.Via, r.Why = ViaNone, "no iptables-nft binary in this image, and this shim has no native nf_tables backend built in"
	default:
		r.Via, r.Why = ViaNone, fmt.Sprintf("no %s binary in this image", Label(mode))
	}
	if locateErr != nil && r.Via == ViaNone {
		r.Error = locateErr.Error()
	}
	return r
}

// unroutable lists the programs of mode the shim cannot carry out.
func unroutable(routes []Route, mode backend.Mode) []Route {
	var out []Route
	for _, r := range routes {
		if r.Mode == mode && r.Via == ViaNone {
			out = append(out, r)
		}
	}
	return out
}

// noBackendFinding is the problem of a host whose backend the shim cannot
// reach from this image, or nil.
func noBackendFinding(mode backend.Mode, routes []Route) *Finding {
	missing := unroutable(routes, mode)
	if mode == "" || len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, r := range missing {
		names[i] = r.Program
	}
	return &Finding{Kind: KindNoBackend, Summary: fmt.Sprintf(
		"the host uses %s, but the shim has nothing to run %s with in this image (%s): those calls will fail",
		Label(mode), strings.Join(names, ", "), missing[0].Why)}
}

// noBackendAction says in plain words how to give the shim a backend.
func noBackendAction(mode backend.Mode, dirs []string) string {
	if dirs == nil {
		dirs = execbackend.DefaultDirs
	}
	where := strings.Join(dirs, ", ")
	if mode == backend.Legacy {
		return fmt.Sprintf("Put the legacy iptables binaries into this image (the iptables package that provides "+
			"xtables-legacy-multi or iptables-legacy), or set backend-dirs (IPTABLES_SHIM_BACKEND_DIRS) to the directory "+
			"that holds them; the shim looks in %s and cannot write legacy rules without them", where)
	}
	return fmt.Sprintf("Put iptables-nft (xtables-nft-multi) into this image or set backend-dirs (IPTABLES_SHIM_BACKEND_DIRS) "+
		"to the directory that holds it (the shim looks in %s); with a shim that has the native nf_tables backend, "+
		"nft=auto or nft=native serves these calls without it", where)
}
