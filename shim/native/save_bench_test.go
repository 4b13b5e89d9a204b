package native

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iptables-shim/iptables-shim/internal/kubepayload"
	"github.com/iptables-shim/iptables-shim/internal/netnstest"
	"github.com/iptables-shim/iptables-shim/shim/backend"
	"github.com/iptables-shim/iptables-shim/shim/syntax"
)

// BenchmarkSave saves kube-proxy-shaped rulesets that iptables-nft-restore
// loaded into a private namespace, in process, so that -cpuprofile and
// -memprofile see the save alone:
//
//	go test ./shim/native -run '^$' -bench Save -cpuprofile cpu.prof
//
// Compare with `go run ./bench/native`, which times the same against
// iptables-nft-save as separate processes.
func BenchmarkSave(b *testing.B) {
	for _, services := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("services=%d", services), func(b *testing.B) {
			netnstest.Require(b, "iptables-nft-restore")
			ns := netnstest.New(b)
			p := kubepayload.Generate(kubepayload.Options{Services: services})
			ns.MustRunStdin(p.Text, "iptables-nft-restore")
			b.ResetTimer()
			err := inNetns(ns.Name, func() error {
				bk := New(Options{})
				for b.Loop() {
					c := &backend.Call{Family: syntax.IPv4, Tool: backend.Save, Stdout: io.Discard, Stderr: io.Discard}
					if err := bk.Run(context.Background(), c); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(p.Rules), "rules")
		})
	}
}

// inNetns runs fn on a thread moved into the named namespace. The thread
// is never unlocked, so the runtime discards it when the goroutine ends
// instead of handing the namespace to other goroutines.
func inNetns(name string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + name)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		done <- fn()
	}()
	return <-done
}
