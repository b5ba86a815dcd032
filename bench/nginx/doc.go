// Package nginx runs a real nginx on loopback for tests and benchmarks, so
// downloaders can be measured against the server most of the web runs
// rather than only against our own Go test server.
//
// Start writes a configuration into a fresh temporary directory and runs
// nginx in the foreground as a child process ("daemon off; master_process
// off": one process, no workers to reap). Everything nginx writes — pid
// file, error log, the temp paths of its proxy and body modules — lives in
// that directory, so it runs the same as root and as an unprivileged user
// and never touches /var or /run. Close stops nginx and removes the
// directory.
//
// # Listening
//
// nginx listens on 127.0.0.1 only, on a port the kernel reported free a
// moment before. If another process takes the port in between, nginx fails
// to bind and Start tries another port. Start returns once nginx has
// written its pid file (which it does only after binding every listen
// address, so the port is known to be nginx's) and has answered an HTTP
// request.
//
// # Serving
//
// Root is served at "/" and at every path no Location matches. Each
// Location other than "/" is an alias of Root under its prefix, which lets
// one file be served both unthrottled and rate-limited:
//
//	/256M.bin        no limit
//	/slow/256M.bin   limit_rate 10m
//
// Responses use sendfile, keep-alive connections live for 10000 requests,
// access logging is off, and every file is application/octet-stream.
//
// Note that nginx's limit_rate applies per request, not per connection,
// and lets each request send about one second's worth of data at full
// speed before throttling (ngx_http_write_filter_module.c computes the
// allowance as rate × (elapsed seconds + 1)). A client that asks for pieces
// smaller than the rate per second is therefore barely slowed down.
//
// # TLS
//
// With Config.TLS set, the same server block serves https instead of http
// ("listen 127.0.0.1:PORT ssl"), with the given certificate and key,
// TLSv1.2 and TLSv1.3, and a small shared session cache. HTTP/2 stays off,
// so ALPN offers only http/1.1 and a client's ranges travel on connections
// of their own, as over http. URL then returns https:// URLs. nginx does
// not use sendfile for TLS connections (kernel TLS is not configured): it
// reads the file and encrypts it in user space, as a stock production
// server does. Start's readiness probe makes a TLS handshake and checks
// that nginx presents exactly the certificate it was given.
//
// # Requirements
//
// nginx 1.19.5 or later (for the -e flag that moves the startup error log
// out of /var/log). Binary finds it on PATH or at /usr/sbin/nginx; on
// Debian "apt-get install nginx-light" is enough. Only Unix-like systems
// are supported.
//
// # Example
//
//	s, err := nginx.Start(nginx.Config{
//		Root: dir,
//		Locations: []nginx.Location{
//			{Prefix: "/"},
//			{Prefix: "/slow/", LimitRate: "10m"},
//		},
//	})
//	if err != nil { ... }
//	defer s.Close()
//	resp, err := http.Get(s.URL("/slow/256M.bin"))
//
// Over TLS, with a certificate from bench/server's TestCA:
//
//	ca, _ := server.NewTestCA()
//	certPEM, keyPEM, _ := ca.Issue([]string{"127.0.0.1"}, notBefore, notAfter)
//	s, err := nginx.Start(nginx.Config{Root: dir, TLS: &nginx.TLS{CertPEM: certPEM, KeyPEM: keyPEM}})
//	// s.URL("/256M.bin") is https://127.0.0.1:PORT/256M.bin; clients trust ca.PEM.
package nginx
