#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, docs/fuzzing.md) and runs each for a while.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (`make fuzz SECONDS=N` calls this)
#
# Each target runs on a fresh copy of its seed corpus (Fuzz/corpus/<target>) in a temporary
# folder, so the repository is never modified, with -max_total_time=N -timeout=10
# -rss_limit_mb=2048. Prints per target the executions and whether it crashed (with the path of
# the saved input); exits 1 when any target crashed, 2 when the build failed.
set -uo pipefail
cd "$(dirname "$0")/.."

per_target=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(FuzzSegment FuzzEventJSON FuzzSquidLog FuzzWebshareCSV FuzzWebshareStats)
fi
case "$per_target" in '' | *[!0-9]*) echo "fuzz: seconds per target must be a whole number, not '$per_target'" >&2; exit 2 ;; esac

scratch=.build-fuzz
build_start=$(date +%s)
for target in "${targets[@]}"; do
    # ld.gold warns once per ASan helper symbol it cannot export; those lines are noise.
    PROXY_LEDGER_FUZZ=1 swift build -c debug --scratch-path "$scratch" --product "$target" 2>&1 \
        | grep -v "Cannot export local symbol"
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
        echo "fuzz: building $target failed" >&2
        exit 2
    fi
done
echo "fuzz: built ${#targets[@]} targets in $(($(date +%s) - build_start)) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/proxy-ledger-fuzz.XXXXXX")
crashed=0
failed=0
summary=()
for target in "${targets[@]}"; do
    mkdir -p "$work/$target/corpus" "$work/$target/artifacts"
    cp -R "Fuzz/corpus/$target/." "$work/$target/corpus/"
    log="$work/$target/fuzz.log"
    echo "fuzz: running $target for $per_target s (log: $log)"
    # The Swift runtime's backtracer would race ASan's report on a crash; libFuzzer reports it.
    SWIFT_BACKTRACE=enable=no timeout --signal=KILL $((per_target + 300)) \
        "$scratch/debug/$target" -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/$target/artifacts/" "$work/$target/corpus" >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    [ -n "$runs" ] || runs="?"
    # crash-, timeout-, oom- and leak- inputs are failures; a slow-unit- input (slower than
    # -report_slow_units, 10 s, yet within -timeout) is only reported.
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | grep -v '/slow-unit-' | tail -1)
    slow=$(sed -n 's/.*Test unit written to \(.*\/slow-unit-.*\)$/\1/p' "$log" | tail -1)
    if [ "$status" -eq 0 ] && [ -z "$artifact" ]; then
        line="$target: $runs executions in $per_target s, no crash"
        [ -z "$slow" ] || line="$line (a slow input was saved: $slow)"
    else
        crashed=1
        failed=$((failed + 1))
        line="$target: CRASHED (exit $status) after $runs executions; input: ${artifact:-none saved}; log: $log"
        grep -E "ERROR|Fatal error|SUMMARY|panic|ALARM|out-of-memory" "$log" | head -5 | sed 's/^/    /'
    fi
    echo "fuzz: $line"
    summary+=("$line")
done

echo
echo "fuzz summary ($per_target s per target):"
printf '  %s\n' "${summary[@]}"
# The plain closing line CI logs are read for: a target passed when it ran without a crash.
echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed"
if [ "$crashed" -ne 0 ]; then
    echo "fuzz: a target crashed; the inputs and logs are kept in $work (docs/fuzzing.md: how to turn one into a test)"
    exit 1
fi
if grep -q "slow input was saved" <<<"${summary[*]}"; then
    echo "fuzz: the slow inputs and the logs are kept in $work"
else
    rm -rf "$work"
fi
