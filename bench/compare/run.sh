#!/usr/bin/env bash
# run.sh runs strata's comparison with its peers (the benchmarks of this nested
# module), repeated -count times, and summarizes it with benchstat (libraries side
# by side) and with the ratios strata/peer (cmd/ratios).
#
#   bench/compare/run.sh                  # -count 5, -benchtime 1s: about 15 minutes
#   bench/compare/run.sh -quick           # -count 1, -benchtime 300ms: about 3 minutes
#   bench/compare/run.sh -count 10 -bench 'Append' -o /tmp/append.txt
#
# Environment instead of flags: COUNT, BENCHTIME, BENCH, OUT.
# benchstat is used from PATH, else installed into a temporary GOBIN (never into
# the core module or this one).
set -euo pipefail

cd "$(dirname "$0")"

count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
bench=${BENCH:-.}
out=${OUT:-results.txt}

while [ $# -gt 0 ]; do
	case "$1" in
	-quick) count=1; benchtime=300ms ;;
	-count) count=$2; shift ;;
	-benchtime) benchtime=$2; shift ;;
	-bench) bench=$2; shift ;;
	-o) out=$2; shift ;;
	-h | -help | --help)
		sed -n '2,13p' "$0"
		exit 0
		;;
	*)
		echo "run.sh: unknown argument $1 (see -help)" >&2
		exit 2
		;;
	esac
	shift
done

benchstat=$(command -v benchstat || true)
if [ -z "$benchstat" ]; then
	gobin=$(mktemp -d)
	trap 'rm -rf "$gobin"' EXIT
	echo "run.sh: installing benchstat into $gobin" >&2
	GOBIN=$gobin go install golang.org/x/perf/cmd/benchstat@latest
	benchstat=$gobin/benchstat
fi

{
	echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "# go: $(go version)"
	echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //') ($(nproc) CPUs)"
	echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
	echo "# command: go test -run '^\$' -bench '$bench' -benchmem -count $count -benchtime $benchtime"
} >"$out"

echo "run.sh: go test -bench '$bench' -count $count -benchtime $benchtime, into $out" >&2
go test -run '^$' -bench "$bench" -benchmem -count "$count" -benchtime "$benchtime" -timeout 0 . | tee -a "$out"
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" >>"$out"

echo
echo "== benchstat -col /lib (strata is the base column) =="
"$benchstat" -col /lib "$out"
echo
echo "== ratios =="
go run ./cmd/ratios "$out"
