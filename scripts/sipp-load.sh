#!/usr/bin/env bash
# SIPp load against examples/uas over 127.0.0.1, as in the README's "Load against SIPp".
#
#   scripts/sipp-load.sh RATE COUNT [PORT]
#
# Builds `uas` in release mode, pins it to core 1 and SIPp's built-in `uac` scenario to
# core 0, runs COUNT calls at RATE calls/s (bounded: SIPp gives up after 120 s), then
# prints the rate SIPp achieved, its successful/failed calls and retransmissions, and the
# CPU `uas` used while SIPp ran. Needs `sipp` (Debian: sip-tester) and `taskset`.
set -euo pipefail
rate=${1:?usage: sipp-load.sh RATE COUNT [PORT]}
count=${2:?usage: sipp-load.sh RATE COUNT [PORT]}
port=${3:-27000}
cd "$(dirname "$0")/.."
cargo build --release --example uas -q
out=$(mktemp -d)
taskset -c 1 target/release/examples/uas --bind "127.0.0.1:$port" --quiet --large --stats 5 \
    2> "$out/uas.err" &
uas=$!
trap 'kill $uas 2>/dev/null || true' EXIT
sleep 3
cpu0=$(awk '{print $14+$15}' "/proc/$uas/stat")
t0=$(date +%s.%N)
rc=0
taskset -c 0 timeout 200 sipp -sn uac -d 0 -r "$rate" -m "$count" -i 127.0.0.1 -p $((port + 1)) \
    -buff_size 4194304 -timeout 120s -timeout_error -nostdin \
    -trace_stat -stf "$out/sipp.csv" "127.0.0.1:$port" > "$out/sipp.out" 2>&1 || rc=$?
t1=$(date +%s.%N)
cpu1=$(awk '{print $14+$15}' "/proc/$uas/stat")
python3 - "$out/sipp.csv" "$cpu0" "$cpu1" "$t0" "$t1" "$rc" <<'PY'
import csv, sys, os
path, c0, c1, t0, t1, rc = sys.argv[1:]
rows = list(csv.reader(open(path), delimiter=';'))
head, last = rows[0], rows[-1]
get = lambda k: last[head.index(k)]
hz = os.sysconf('SC_CLK_TCK')
cpu = (float(c1) - float(c0)) / hz / (float(t1) - float(t0)) * 100
print(f"sipp exit {rc}: achieved {get('CallRate(C)')} calls/s, "
      f"{get('SuccessfulCall(C)')} ok, {get('FailedCall(C)')} failed, "
      f"{get('Retransmissions(C)')} retransmissions; uas CPU {cpu:.0f} %")
PY
sleep 6
tail -n 1 "$out/uas.err"
