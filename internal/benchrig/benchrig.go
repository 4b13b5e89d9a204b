// Package benchrig is what the bench programs share to set up a
// measurement: a private network namespace, the shim built and linked under
// the six iptables names, and the real multi-call binary linked under the
// same names as an unshimmed host has them.
package benchrig

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/iptables-shim/iptables-shim/internal/shimbuild"
)

// ProgramNames are the six names the shim answers to.
func ProgramNames() []string {
	return []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"}
}

// NewNS adds a network namespace with a name no other run uses and returns
// the name; the caller deletes it.
func NewNS() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	name := fmt.Sprintf("shimbench-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ip netns add: %w: %s", err, out)
	}
	return name, nil
}

// BuildLinked builds pkg statically into tmp/name and links the six
// iptables names to it there, returning the directory.
func BuildLinked(tmp, name, pkg string) (string, error) {
	dir := filepath.Join(tmp, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	cmd := shimbuild.Command(pkg, filepath.Join(dir, "iptables-shim"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s (run from the module root): %w: %s", pkg, err, out)
	}
	for _, n := range ProgramNames() {
		if err := os.Symlink("iptables-shim", filepath.Join(dir, n)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// LinkReal makes tmp/real-MODE: the six names (and "multi") linked to the
// real xtables-MODE-multi, as an unshimmed host has them. A directory made
// by an earlier call is reused.
func LinkReal(tmp, mode string) (string, error) {
	dir := filepath.Join(tmp, "real-"+mode)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	multi := ""
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if p := filepath.Join(d, "xtables-"+mode+"-multi"); isFile(p) {
			multi = p
			break
		}
	}
	if multi == "" {
		return "", fmt.Errorf("xtables-%s-multi not found", mode)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	for _, n := range append(ProgramNames(), "multi") {
		if err := os.Symlink(multi, filepath.Join(dir, n)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
