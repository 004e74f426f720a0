#!/usr/bin/env bash
# make fuzz: run the libFuzzer targets of a fuzz build, JOBS at a time, each
# for SECONDS on a copy of its seed corpus (tests/fuzz/corpus/<target>; the
# committed corpus never grows) with its regressions as extra seeds and its
# dictionary when it has one. Fails when any target found a crash, a leak,
# a timeout or a sanitizer report, and names the input that reproduces it.
#
#   scripts/fuzz.sh BUILD SECONDS JOBS TARGET...
#
# Everything a run writes is under BUILD/fuzz-out/<target>: corpus/ (the
# grown copy), artifacts/ (crash-*, leak-*, timeout-*, oom-*) and log.
set -u

if [ $# -lt 4 ]; then
	echo "usage: $0 BUILD SECONDS JOBS TARGET..." >&2
	exit 2
fi
build=$1 seconds=$2 jobs=$3
shift 3
src=$(cd "$(dirname "$0")/.." && pwd)
out=$build/fuzz-out

run_one() {
	local t=$1 w=$out/$1
	local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024
		-print_final_stats=1 -artifact_prefix="$w/artifacts/")
	rm -rf "$w"
	mkdir -p "$w/corpus" "$w/artifacts"
	cp "$src/tests/fuzz/corpus/$t/"* "$w/corpus/"
	[ -f "$src/tests/fuzz/dict/$t.dict" ] && args+=(-dict="$src/tests/fuzz/dict/$t.dict")
	local dirs=("$w/corpus")
	[ -d "$src/tests/fuzz/regressions/$t" ] && dirs+=("$src/tests/fuzz/regressions/$t")
	# A hang inside one input is libFuzzer's -timeout; this only guards
	# against the run itself never ending.
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		timeout -k 30 $((seconds * 2 + 120)) \
		"$build/tests/fuzz/fuzz_$t" "${args[@]}" "${dirs[@]}" >"$w/log" 2>&1
	echo $? >"$w/status"
}

mkdir -p "$out"
running=0
for t in "$@"; do
	if [ ! -x "$build/tests/fuzz/fuzz_$t" ]; then
		echo "fuzz: no target fuzz_$t in $build" >&2
		exit 2
	fi
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	echo "fuzz: $t for ${seconds}s"
	run_one "$t" &
	running=$((running + 1))
done
wait

failed=0
printf '%-10s %12s %8s %8s %8s  %s\n' target runs exec/s cov features result
for t in "$@"; do
	w=$out/$t
	status=$(cat "$w/status" 2>/dev/null || echo 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$w/log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$w/log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$w/log" | tail -1 | cut -d' ' -f2)
	artifacts=$(find "$w/artifacts" -type f | sort)
	result=ok
	if [ "$status" != 0 ] || [ -n "$artifacts" ]; then
		result="FAILED (exit $status)"
		failed=1
	fi
	printf '%-10s %12s %8s %8s %8s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" \
		"${ft:-?}" "$result"
done
for t in "$@"; do
	w=$out/$t
	status=$(cat "$w/status" 2>/dev/null || echo 1)
	artifacts=$(find "$w/artifacts" -type f | sort)
	[ "$status" = 0 ] && [ -z "$artifacts" ] && continue
	echo
	echo "=== fuzz_$t: exit $status; log $w/log"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz oracle failed|.*runtime error:)' "$w/log" | head -10
	for a in $artifacts; do
		echo "reproduce: $build/tests/fuzz/fuzz_$t $a"
	done
done
exit $failed
