#!/usr/bin/env bash
# make demo: the project's own test server on loopback, a 1 GiB synthetic file, one download.
set -euo pipefail
rangedl=${1:?usage: demo.sh PATH-TO-RANGEDL}
size=1G
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT

go build -o "$dir/testserver" ./bench/cmd/testserver
"$dir/testserver" >"$dir/server.out" &
server=$!
for _ in $(seq 50); do grep -q listening "$dir/server.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$dir/server.out")/$size.bin

echo "\$ rangedl -n 8 -o $dir/$size.bin $url"
"$rangedl" -n 8 -o "$dir/$size.bin" "$url"
want=$("$dir/testserver" -sum $size)
got=$(sha256sum "$dir/$size.bin" | cut -d' ' -f1)
if [ "$got" = "$want" ]; then
	echo "sha256 $got: identical to what the server sent"
else
	echo "sha256 MISMATCH: got $got, want $want" >&2
	exit 1
fi
echo
echo "Now try a real URL:  $rangedl -n 8 http://example.com/some/file.iso"
