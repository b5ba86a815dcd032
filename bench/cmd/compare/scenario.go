package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// serverKind says which server a scenario downloads from.
type serverKind int

const (
	// nginxServer is a real nginx (package bench/nginx) serving a file
	// generated on disk: the server most downloads come from.
	nginxServer serverKind = iota
	// testServer is bench/cmd/testserver, for what nginx cannot do:
	// per-connection rates, one slow connection, no range support, a
	// delay before every response.
	testServer
)

func (k serverKind) String() string {
	if k == nginxServer {
		return "nginx"
	}
	return "testserver"
}

// scenario is one download measured with every tool.
type scenario struct {
	name string
	note string // what it measures, for the report
	kind serverKind
	size int64 // bytes, before -size-scale

	// conns is the connection count the scenario asks of multi-connection
	// tools; rangedlConns overrides it for rangedl when non-zero (the
	// unthrottled scenarios run rangedl at its default of 8 and the
	// others at the 16 their users are told to use).
	conns        int
	rangedlConns int

	// nginx: limitRate is the location's limit_rate ("" = none); tls
	// serves https with a certificate from a new test CA, whose
	// certificate every tool is given.
	limitRate string
	tls       bool
	// testserver: its flags, and the per-connection rate and latency they
	// set, which timeout needs.
	serverFlags []string

	// rate is the per-connection cap in bytes/s (0 = none) and latency
	// the delay before each response: the inputs of the ideal time.
	rate    int64
	latency time.Duration
}

// Connection and rate figures the scenarios share.
const (
	mib = 1 << 20
	gib = 1 << 30

	rate10M      = 10 * mib
	stragglerIdx = 2 // the straggler is the 2nd connection accepted: see below
)

// scenarios is the catalogue, in report order.
//
// The straggler is the second connection the server accepts because every
// multi-connection tool uses its second connection for data: the first
// may be a probe that some tools close (axel) and others keep (aria2c,
// rangedl). Single-connection tools never open a second one, so for them
// this scenario is a plain 10 MiB/s download.
var scenarios = []scenario{
	{
		name:         "unthrottled-1g",
		note:         "1 GiB from nginx on loopback, no rate limit: the cost per byte (CPU, copies, syscalls).",
		kind:         nginxServer,
		size:         1 * gib,
		conns:        16,
		rangedlConns: 8,
	},
	{
		name: "https-1g",
		note: "The file and connection counts of unthrottled-1g, from the same nginx over https (TLSv1.2/TLSv1.3, HTTP/1.1 only), with a certificate for 127.0.0.1 " +
			"from a CA made on the spot; every tool is given the CA's certificate (rangedl and curl --cacert, the others --ca-certificate) " +
			"except axel, which has no such option and runs with -k. The cost per byte now includes encryption on both sides: nginx " +
			"encrypts in user space (no kernel TLS, hence no sendfile), and each tool decrypts with its own TLS library " +
			"(rangedl: Go's crypto/tls; on Debian curl and axel use OpenSSL, aria2c, wget and wget2 GnuTLS), on the same cores as nginx.",
		kind:         nginxServer,
		size:         1 * gib,
		conns:        16,
		rangedlConns: 8,
		tls:          true,
	},
	{
		name:      "rate10m-256m-n4",
		note:      "256 MiB from nginx with limit_rate 10m, 4 connections. limit_rate is per request and grants each request about 1 s of data at full speed, so tools that ask for small pieces are barely throttled.",
		kind:      nginxServer,
		size:      256 * mib,
		conns:     4,
		limitRate: "10m",
		rate:      rate10M,
	},
	{
		name:      "rate10m-256m-n16",
		note:      "As rate10m-256m-n4 with 16 connections.",
		kind:      nginxServer,
		size:      256 * mib,
		conns:     16,
		limitRate: "10m",
		rate:      rate10M,
	},
	{
		name: "straggler",
		note: "256 MiB from testserver, every connection capped at 10 MiB/s except the 2nd accepted, capped at 200 KiB/s: does the tool notice the slow connection and move its work?",
		kind: testServer,
		size: 256 * mib,
		serverFlags: []string{
			"-rate", "10M",
			"-straggler", fmt.Sprint(stragglerIdx),
			"-straggler-rate", "200K",
		},
		conns: 16,
		rate:  rate10M,
	},
	{
		name:         "noranges",
		note:         "256 MiB from testserver, which ignores Range and always answers 200 with the whole file: does the tool fall back to one connection cleanly?",
		kind:         testServer,
		size:         256 * mib,
		serverFlags:  []string{"-noranges"},
		conns:        16,
		rangedlConns: 8,
	},
	{
		name:         "latency50ms",
		note:         "256 MiB from testserver, every response delayed 50 ms: the cost of each request round trip.",
		kind:         testServer,
		size:         256 * mib,
		serverFlags:  []string{"-latency", "50ms"},
		conns:        16,
		rangedlConns: 8,
		latency:      50 * time.Millisecond,
	},
}

// smokeScenario is the -smoke run: small enough for CI, large enough that
// every tool opens its connections and the hash check means something.
var smokeScenario = scenario{
	name:         "unthrottled",
	note:         "16 MiB from nginx on loopback (testserver when nginx is absent), no rate limit: a smoke test, not a measurement.",
	kind:         nginxServer,
	size:         16 * mib,
	conns:        16,
	rangedlConns: 8,
}

// smokeHTTPSScenario is the https part of -smoke, run only with nginx (the
// testserver does not serve https).
var smokeHTTPSScenario = scenario{
	name:         "https",
	note:         "16 MiB from nginx on loopback over https, the CA's certificate given to every tool: a smoke test, not a measurement.",
	kind:         nginxServer,
	size:         16 * mib,
	conns:        16,
	rangedlConns: 8,
	tls:          true,
}

// selectScenarios returns the named scenarios in the order given, or all
// of them for an empty list.
func selectScenarios(list string) ([]scenario, error) {
	if list == "" || list == "all" {
		return append([]scenario(nil), scenarios...), nil
	}
	var out []scenario
	seen := make(map[string]bool)
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		sc, ok := findScenario(name)
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (have %s)", name, scenarioNames())
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario selected (have %s)", scenarioNames())
	}
	return out, nil
}

func findScenario(name string) (scenario, bool) {
	for _, sc := range scenarios {
		if sc.name == name {
			return sc, true
		}
	}
	return scenario{}, false
}

func scenarioNames() string {
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.name
	}
	return strings.Join(names, ", ")
}

// scaled returns sc with its size multiplied by f, rounded to whole MiB
// (at least 1 MiB) so that file names stay readable ("/26M.bin").
func (sc scenario) scaled(f float64) scenario {
	if f == 1 {
		return sc
	}
	m := int64(math.Round(float64(sc.size) * f / mib))
	sc.size = max(m, 1) * mib
	return sc
}

// connsFor is the connection count tool t is asked to use in sc.
func (sc scenario) connsFor(t tool) int {
	if t.name == "rangedl" && sc.rangedlConns > 0 {
		return sc.rangedlConns
	}
	return sc.conns
}

// fileName is the served file's name in bench/server's size syntax,
// which nginx serves as a plain file name, e.g. "256M.bin".
func fileName(size int64) string {
	switch {
	case size%gib == 0:
		return fmt.Sprintf("%dG.bin", size/gib)
	case size%mib == 0:
		return fmt.Sprintf("%dM.bin", size/mib)
	}
	return fmt.Sprintf("%d.bin", size)
}

// urlPath is the path to download in sc: nginx serves the rate-limited
// copy under /slow/.
func (sc scenario) urlPath() string {
	if sc.limitRate != "" {
		return "/slow/" + fileName(sc.size)
	}
	return "/" + fileName(sc.size)
}

// Timeout bounds: 10× the ideal time, but never less than minTimeout (a
// tiny file on a loaded 2-core machine can stall for a second) nor more
// than maxTimeout (so a hung tool costs minutes, not hours).
const (
	refRate    = 256 * mib // bytes/s assumed for "unlimited": loopback on a slow box
	minTimeout = 30 * time.Second
	maxTimeout = 120 * time.Second
)

// timeout returns how long a run of a tool using conns connections may
// take: 10× the ideal time, clamped to [minTimeout, maxTimeout]. The ideal
// is the size at conns × the per-connection rate (or at refRate when the
// scenario has no rate), plus one latency.
func (sc scenario) timeout(conns int) time.Duration {
	rate := float64(refRate)
	if sc.rate > 0 {
		rate = float64(sc.rate) * float64(max(conns, 1))
	}
	ideal := time.Duration(float64(sc.size)/rate*float64(time.Second)) + sc.latency
	return min(max(10*ideal, minTimeout), maxTimeout)
}
