#!/bin/bash
# build.sh -- builds the Go test programs (server.go, client.go) offline in every build mode the tests analyse and trace.
#
# usage: build.sh OUTDIR [GO]
#   OUTDIR  where server-MODE and client-MODE go (created)
#   GO      the go command (default: go); any toolchain from Go 1.15 on
#
# Nothing is fetched: GOPATH mode (GO111MODULE=off, stdlib only),
# GOPROXY=off, GOTOOLCHAIN=local, and GOCACHE/GOPATH under OUTDIR, so
# that the host's caches are neither read nor written.
#
# Modes (all on linux/amd64; the layouts they give are what gobin must read):
#   default      cgo as the toolchain chooses (Debian: on; internal link, dynamic)
#   stripped     -ldflags='-s -w': no .symtab, functions only in .gopclntab
#   pie          -buildmode=pie: ET_DYN, .data.rel.ro.gopclntab
#   static       CGO_ENABLED=0: static, ET_EXEC
#   extpie       PIE through the external linker (gcc): .text starts with C code
#   staticpie    static-PIE through the external linker, -tags netgo,osusergo
#   staticpie-stripped   the same with -s -w: no .gopclntab section left at
#                all (merged into .data.rel.ro): found by searching
# The external-linker modes need gcc and a static libc (libc6-dev); they
# are built when those work, and so are skipped for toolchains that do
# not support them.
#
# Writes OUTDIR/MODES, the modes built, one per line, and OUTDIR/GO, the
# go command's path (tests read the binaries with that toolchain's tools:
# an older `go tool addr2line` cannot read a newer pclntab).
set -eu
OUT=$1
GO=${2:-go}
SRC=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT/.gocache" "$OUT/.gopath"
OUT=$(cd "$OUT" && pwd)      # go wants absolute GOPATH and GOCACHE
export GOCACHE="$OUT/.gocache" GOPATH="$OUT/.gopath" GO111MODULE=off GOPROXY=off \
	GOFLAGS= GOTOOLCHAIN=local GOENV=off GOWORK=off
unset GOOS GOARCH GOROOT 2>/dev/null || true

# build MODE [ENV=VALUE...] -- [go build flags...]
build() {
	local mode=$1 envs=() p
	shift
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	for p in server client; do
		env "${envs[@]}" "$GO" build -o "$OUT/$p-$mode" "$@" "$SRC/$p.go" || return 1
	done
	echo "$mode" >>"$OUT/MODES.new"
}

: >"$OUT/MODES.new"
build default -- 
build stripped -- -ldflags='-s -w'
build pie -- -buildmode=pie
build static CGO_ENABLED=0 --
if command -v gcc >/dev/null; then
	build extpie -- -buildmode=pie -ldflags='-linkmode=external' ||
		echo "build.sh: no external-linker PIE with $GO" >&2
	if build staticpie -- -buildmode=pie -tags netgo,osusergo \
		-ldflags='-linkmode=external -extldflags=-static-pie'; then
		build staticpie-stripped -- -buildmode=pie -tags netgo,osusergo \
			-ldflags='-s -w -linkmode=external -extldflags=-static-pie'
	else
		echo "build.sh: no static-PIE with $GO" >&2
	fi
fi 2>"$OUT/extlink.log"
command -v "$GO" >"$OUT/GO"
mv "$OUT/MODES.new" "$OUT/MODES"
