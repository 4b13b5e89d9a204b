package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// launchEnv makes the binary act as the launcher of one measured run.
//
// A child started by the bench itself would report the bench's own peak
// RSS (large with a big payload in memory) whenever that
// is the larger: Go starts children with vfork, so until the exec the
// child runs on the parent's memory, and the kernel carries that memory's
// high-water mark into the child's ru_maxrss. The launcher is a fresh,
// small process that starts the measured program and reports its rusage.
const launchEnv = "NATIVE_BENCH_LAUNCH"

// launchReport is what the launcher reports on fd 4.
type launchReport struct {
	Wall, CPU time.Duration
	MaxRSS    int64 // KiB
}

// launch runs argv with the launcher's standard streams and fd 3, reports
// its rusage on fd 4, and returns its exit status.
func launch(argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{os.NewFile(3, "timings")}
	var env []string
	for _, e := range os.Environ() {
		if len(e) < len(launchEnv)+1 || e[:len(launchEnv)+1] != launchEnv+"=" {
			env = append(env, e)
		}
	}
	cmd.Env = env
	start := time.Now()
	err := cmd.Run()
	var r launchReport
	r.Wall = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && cmd.ProcessState != nil {
		r.MaxRSS = ru.Maxrss
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if f := os.NewFile(4, "report"); f != nil {
		_ = json.NewEncoder(f).Encode(r)
		f.Close()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 127
	}
	return 0
}
