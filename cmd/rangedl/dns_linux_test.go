package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLookupTimeout: a name lookup that gets no answer gives up after --connect-timeout, as
// curl's does; it waited for the resolver's own timeouts (10 s here) whatever the flag said (a
// hunt). The name server is on lo, in a network and mount namespace of the test's own, and
// nft drops what is sent to it.
func TestLookupTimeout(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.1\noptions timeout:5 attempts:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-m", "-n", "sh", "-c", `ip link set lo up && nft add table inet t &&
nft 'add chain inet t in { type filter hook input priority 0; }' &&
nft add rule inet t in udp dport 53 drop && nft add rule inet t in tcp dport 53 drop &&
mount --bind "$RESOLV" /etc/resolv.conf || exit 99
exec "$BIN" --connect-timeout 1 -o "$OUT" http://nothing.test/x`}
	if os.Geteuid() != 0 {
		args = append([]string{"-r"}, args...)
	}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), "BIN="+binary, "RESOLV="+resolv, "OUT="+filepath.Join(dir, "x"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == 99, errors.Is(err, exec.ErrNotFound):
		t.Skipf("no namespace with nft here: %v\n%s", err, out)
	case !errors.As(err, &ee) || ee.ExitCode() != exitNetwork:
		t.Fatalf("%v; want exit %d\n%s", err, exitNetwork, out)
	}
	if want := "rangedl: cannot resolve nothing.test: no answer within 1s (--connect-timeout)\n"; string(out) != want {
		t.Errorf("got %q; want %q", out, want)
	}
}
