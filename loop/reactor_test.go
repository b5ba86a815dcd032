package loop

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
)

// TestWaitingGivesUpSeat: a download waiting out its server's Retry-After gives up its seat.
// With one seat, a download from another server runs to its end meanwhile (with the seat
// kept, it would wait the 5 s), and Waiting counts the one that waits until it ends.
func TestWaitingGivesUpSeat(t *testing.T) {
	shedding, err := server.Start(server.Config{Faults: []server.Fault{{Kind: server.Status503, RetryAfter: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	defer shedding.Close()
	healthy := startRaw(t, &rawServer{content: content(1000)})
	r, err := NewReactor(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{})
	go func() { r.Run(); close(ran) }()
	defer func() { r.Close(); <-ran }()

	addr := netip.MustParseAddrPort(shedding.Addr())
	a, err := r.New(Job{URL: shedding.URL("/100"), Host: addr.String(), Target: "/100", Addrs: []netip.AddrPort{addr},
		Output: filepath.Join(t.TempDir(), "a"), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	aDone := make(chan error, 1)
	go func() { _, err := a.Run(); aDone <- err }()
	select {
	case <-r.Waited():
	case <-time.After(4 * time.Second):
		t.Fatal("the download answered 503 never waited")
	}
	if n := r.Waiting(); n != 1 {
		t.Fatalf("Waiting() = %d; want 1", n)
	}

	jb := healthy.job(t, 1)
	b, err := r.New(jb)
	if err != nil {
		t.Fatal(err)
	}
	bDone := make(chan error, 1)
	go func() { _, err := b.Run(); bDone <- err }()
	select {
	case err := <-bDone:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-aDone:
		t.Fatalf("the waiting download ended first (%v): the other waited for its seat", err)
	case <-time.After(4 * time.Second):
		t.Fatal("the other server's download did not run while the first waited")
	}
	checkOutput(t, jb.Output, healthy.content)

	a.Stop()
	if err := <-aDone; KindOf(err) != KindInterrupted {
		t.Fatalf("the waiting download: %v; want interrupted", err)
	}
	if n := r.Waiting(); n != 0 {
		t.Errorf("Waiting() = %d after the download ended; want 0", n)
	}
}
