package shimbuild

import (
	"os"
	"strings"
	"testing"
)

// TestShippedBuildsCarryTheLdflags keeps the Makefile (binaries, node
// packages) and the Dockerfile (image) building the shim with Ldflags.
func TestShippedBuildsCarryTheLdflags(t *testing.T) {
	setting := strings.TrimPrefix(Ldflags, "-X ")
	for _, f := range []string{"../../Makefile", "../../Dockerfile"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), setting) {
			t.Errorf("%s does not build the shim with %q", f, setting)
		}
	}
}
