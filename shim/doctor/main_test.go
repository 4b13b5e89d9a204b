package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/iptables-shim/iptables-shim/detect"
	"github.com/iptables-shim/iptables-shim/detect/helperproc"
)

func TestMain(m *testing.M) {
	helperproc.Main(m, map[string]func() int{"doctor": helperDoctor})
}

// helperDoctor runs the doctor inside the namespace and prints the report as
// JSON; it exits as the subcommand does (ExitCode).
func helperDoctor() int {
	r := Run(context.Background(), Options{
		Detect:  detect.Options{CacheDir: os.Getenv("T_CACHE"), NoHostHints: true, Wait: -1},
		CallLog: os.Getenv("T_LOG"),
	})
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return ExitCode(r)
}
