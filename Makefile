# rangedl — see README.md. Everything here needs only Go; the rest (staticcheck from the Go
# module proxy, gcc, nginx-light, and as root xfsprogs and btrfs-progs from Debian) is
# installed on first use.

GO          ?= go
BIN         := $(CURDIR)/bin
RANGEDL     := $(BIN)/rangedl
STATICCHECK := $(BIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
# Fuzz targets as package:Target@budget. The smoke run's budgets are counts of executions,
# about 5 s each here: with a duration, Go 1.26's fuzzing coordinator can report its own
# deadline as a failure ("context deadline exceeded", no failing input) on a busy machine
# (go.dev/issue/75804, fixed in Go 1.27; seen in CI on FuzzControl). FUZZTIME, when set, is
# the budget of every target (make fuzz: 5m).
FUZZ        := ./httpparse:FuzzParser@150000x ./reorder:FuzzBuffer@20000x ./reorder:FuzzControl@200000x

.PHONY: all build test unit race cc fstools fuzz fuzz-smoke lint fmt-check vet cross interop nginx soak bench bench-smoke demo clean

all: build

build:
	$(GO) build -buildvcs=auto -o $(RANGEDL) ./cmd/rangedl

# The whole suite a change must pass (CI runs this).
test: fmt-check vet lint race fuzz-smoke cross bench-smoke

# The race detector needs cgo, and so a C compiler: gcc from Debian, if there is none.
race: cc fstools
	$(GO) test -race -shuffle=on ./...

# As root, the tests also run on XFS and btrfs images on loop devices: xfsprogs and btrfs-progs
# from Debian, if they are missing (without them, or without root, those tests are skipped).
fstools:
	@[ "$$(id -u)" != 0 ] || { command -v mkfs.xfs >/dev/null && command -v mkfs.btrfs >/dev/null; } || { \
		echo "installing xfsprogs and btrfs-progs (for the filesystem tests)"; \
		apt-get update -qq && env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xfsprogs btrfs-progs >/dev/null || \
		echo "xfsprogs, btrfs-progs: not installable, their tests are skipped"; }

cc:
	@command -v $${CC:-cc} >/dev/null || command -v gcc >/dev/null || { \
		echo "installing gcc (go test -race needs a C compiler)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null; }

unit:
	$(GO) test ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(STATICCHECK) fmt-check vet
	$(STATICCHECK) ./...

# A short run of every fuzz target; found crashers land in testdata/fuzz and stay as seeds.
fuzz-smoke:
	@set -e; for t in $(FUZZ); do \
		budget=$${FUZZTIME:-$${t#*@}}; t=$${t%@*}; \
		echo "fuzz $$t for $$budget"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $$budget "$${t%%:*}"; \
	done

fuzz:
	$(MAKE) fuzz-smoke FUZZTIME=5m

# The kqueue side cannot run here; it must at least build (and vet) for every BSD.
cross:
	@set -e; for os in freebsd darwin openbsd netbsd dragonfly; do \
		echo "GOOS=$$os"; GOOS=$$os $(GO) build ./... && GOOS=$$os $(GO) vet ./...; \
	done

# nginx-light from Debian, if there is no nginx yet.
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
		echo "installing nginx-light"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }

# Downloads from a real nginx on loopback.
interop: nginx
	RANGEDL_INTEROP=1 $(GO) test -count=1 -run Nginx -v ./cmd/rangedl/

# The kill-and-resume test at length: SIGKILL at random moments, -c after each, SHA-256 at
# the end of every file. make test runs it with 24 kills; KILLS sets how many here. Also the
# memory test of lists at the size the issue names: 200,000 URLs against 10,000.
KILLS ?= 300
soak:
	RANGEDL_KILLS=$(KILLS) RANGEDL_BATCH_URLS=200000 $(GO) test -count=1 -timeout 60m -run 'TestKillResume|TestBatchMemory' -v ./cmd/rangedl/

# Side-by-side comparison with aria2c, axel, curl, wget, wget2 (installs what is missing).
bench: nginx
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); for p in aria2:aria2c axel:axel wget2:wget2 curl:curl wget:wget; do \
		command -v $${p#*:} >/dev/null || { $$SUDO apt-get update -qq; $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${p%%:*} >/dev/null || echo "$${p%%:*}: not installable, reported absent"; }; \
	done
	$(GO) test -run '^$$' -bench . -benchmem ./httpparse ./reorder
	$(GO) run ./bench/cmd/compare

# Its report goes to ./bin/bench-smoke (ignored by git), replaced by the next run of the same day.
bench-smoke:
	$(GO) run ./bench/cmd/compare -smoke -out $(BIN)/bench-smoke

# Many small files. bench-batch: 5000 files of 16 KiB from nginx with rangedl, wget2, curl and
# aria2c (installs what is missing), 3 rounds, under $TMPDIR; bench-batch-tmpfs: the same on
# tmpfs (/dev/shm), where no tool waits for a disk. bench-million: a million 1 KiB URLs from
# the Go test server through rangedl alone (needs about 8 GiB free under $TMPDIR; takes
# minutes). All check every file (name and size, and the SHA-256 of every file of the 5000, of
# every 997th of the million) and write their report to bench/results.
.PHONY: batch-tools bench-batch bench-batch-tmpfs bench-million
batch-tools: nginx
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); for p in aria2:aria2c wget2:wget2 curl:curl; do \
		command -v $${p#*:} >/dev/null || { $$SUDO apt-get update -qq; $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${p%%:*} >/dev/null || echo "$${p%%:*}: not installable, reported absent"; }; \
	done

bench-batch: batch-tools
	$(GO) run ./bench/cmd/batchbench -out bench/results/$$(date +%F)-batch.md

bench-batch-tmpfs: batch-tools
	@d=$$(mktemp -d /dev/shm/rangedl-batch.XXXXXX) && { $(GO) run ./bench/cmd/batchbench -work $$d -out bench/results/$$(date +%F)-batch-tmpfs.md; rc=$$?; rm -rf $$d; exit $$rc; }

bench-million:
	$(GO) run ./bench/cmd/batchbench -million -out bench/results/$$(date +%F)-million.md

# Builds rangedl, serves a 1 GiB synthetic file on loopback, downloads it with the progress
# bar, and checks its SHA-256.
demo: build
	@bash bench/demo.sh $(RANGEDL)

clean:
	rm -rf $(BIN)
