package harness

import (
	"context"
	"fmt"
	"os/exec"
)

// GoBuild runs "go build [flags] -o out pkg"; on failure the error carries
// the compiler's output.
func GoBuild(ctx context.Context, out, pkg string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return nil
}
