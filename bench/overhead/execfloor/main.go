// Command execfloor is the least a Go stand-in for iptables can do: start,
// then replace itself with the real binary named by EXECFLOOR_TARGET, with
// argv[0] and arguments untouched. The overhead benchmark times it beside
// the shim, to tell the cost of the Go runtime and an extra exec apart
// from the cost of the shim's own work.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// TargetEnv names the real binary to exec.
const TargetEnv = "EXECFLOOR_TARGET"

func main() {
	target := os.Getenv(TargetEnv)
	argv := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	err := syscall.Exec(target, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "execfloor: exec %q: %v\n", target, err)
	os.Exit(1)
}
