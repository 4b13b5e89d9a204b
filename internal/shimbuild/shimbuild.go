// Package shimbuild builds the shim binary for tests and benchmarks the way
// the Makefile builds it for shipping: static, with the same linker
// settings, so that what is measured and tested is what runs on nodes.
package shimbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Ldflags are the linker settings every build of the shim carries (the
// Makefile's LDFLAGS and the Dockerfile repeat them; a test keeps them in
// step).
//
// asyncpreemptoff=1 becomes the binary's default GODEBUG: the Go runtime
// then never sends itself SIGURG to preempt a goroutine that has run for
// 10 ms. A short command-line call gains nothing from asynchronous
// preemption, and iptables gets no signals of its own: under load the
// runtime's signals showed up in strace as a dozen lines a call (iptables'
// ipt-restore/0017-pointless-compat-checks counts strace's output lines) and
// interrupted the caller's view of a plain process. GODEBUG in the
// environment still overrides it.
const Ldflags = "-X runtime.godebugDefault=asyncpreemptoff=1"

// Command returns the command that builds pkg (an import path or a ./path
// relative to the module root, in which the command must run) into out.
func Command(pkg, out string) *exec.Cmd {
	cmd := exec.Command(GoTool(), "build", "-trimpath", "-ldflags", Ldflags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd
}

// GoTool is the go command of the toolchain running the caller, by absolute
// path when it can be found there (PATH may lack it under sudo), else "go".
func GoTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}
