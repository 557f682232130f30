#!/usr/bin/env bash
# serve-benchmark.sh: loads 'spanheap serve' with wrk on 127.0.0.1, once per Netty allocator
# (spanheap, adaptive, pooled), and records throughput, p50/p99 latency and peak RSS in
# docs/benchmarks.md (between the serve-benchmark markers, replaced on each run).
#
# Each allocator in turn: start the server, check it with serve-check.py (echoed bodies of 1 B to
# 1 MiB and their CRC32, 413 and 400 answers), load it with wrk for DURATION seconds, check it
# again, read its peak RSS (VmHWM) from /proc, stop it, and require that it reports nothing left
# allocated. Installs wrk (and python3) from Debian when missing. Only loopback is ever targeted.
#
# Environment: DURATION (seconds of load per allocator, default 15), CONNECTIONS (default 16),
# WRK_THREADS (default 2), SERVER_THREADS (event loops, default 2), PORT (default 18080),
# ALLOCATORS (default "spanheap adaptive pooled"), NO_DOC=1 to print without editing the doc.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
DURATION="${DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-16}"
WRK_THREADS="${WRK_THREADS:-2}"
SERVER_THREADS="${SERVER_THREADS:-2}"
PORT="${PORT:-18080}"
ALLOCATORS="${ALLOCATORS:-spanheap adaptive pooled}"
DOC="$ROOT/docs/benchmarks.md"
WORK="$(mktemp -d)"
SERVER_PID=""

die() {
    echo "serve-benchmark: $*" >&2
    exit 1
}

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

[[ "$DURATION" =~ ^[0-9]+$ && "$DURATION" -ge 1 && "$DURATION" -le 600 ]] \
    || die "DURATION must be 1 to 600 seconds, was '$DURATION'"

install_from_debian() {
    echo "serve-benchmark: installing $* from Debian" >&2
    apt-get update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null
}
command -v wrk >/dev/null 2>&1 || install_from_debian wrk
command -v python3 >/dev/null 2>&1 || install_from_debian python3
command -v wrk >/dev/null 2>&1 || die "wrk is still missing after apt-get install wrk"

# Builds the jar if needed; --help starts no server.
"$ROOT/spanheap" --help >/dev/null

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

rows=()
for allocator in $ALLOCATORS; do
    port_open "$PORT" && die "port $PORT on 127.0.0.1 is already in use; set PORT"
    log="$WORK/server-$allocator.log"
    # Netty's defaults on Java 25: no Unsafe (the launcher allows Unsafe memory access for JMH).
    SPANHEAP_JAVA_OPTS="-Xmx512m -Dio.netty.noUnsafe=true" \
        "$ROOT/spanheap" serve --allocator "$allocator" --port "$PORT" --host 127.0.0.1 \
        --threads "$SERVER_THREADS" --seconds $((DURATION + 120)) >"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 150); do
        port_open "$PORT" && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; die "the $allocator server exited before listening"; }
        sleep 0.2
    done
    port_open "$PORT" || die "the $allocator server did not listen on $PORT within 30 s"

    python3 "$HERE/serve-check.py" --port "$PORT" || die "$allocator: responses failed the check before the load"
    wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 10s -s "$HERE/serve-wrk.lua" \
        "http://127.0.0.1:$PORT/echo" >"$WORK/wrk-$allocator.txt" 2>&1 || { cat "$WORK/wrk-$allocator.txt" >&2; die "wrk failed"; }
    python3 "$HERE/serve-check.py" --port "$PORT" || die "$allocator: responses failed the check after the load"
    hwm_kib="$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")"

    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=""
    cat "$log"
    if [[ "$allocator" == "spanheap" ]]; then
        grep -q "heap live objects: 0 " "$log" || die "spanheap: the server left objects in the heap (log above)"
        grep -q "used direct memory: 0 bytes" "$log" || die "spanheap: the allocator still counts used memory (log above)"
    fi

    result="$(grep '^RESULT' "$WORK/wrk-$allocator.txt")" || { cat "$WORK/wrk-$allocator.txt" >&2; die "no RESULT line from wrk"; }
    echo "serve-benchmark: $allocator: $result peak_rss_kib=$hwm_kib"
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $result"; }
    bad="$(field bad)"
    [[ "$bad" == "0" ]] || die "$allocator: $bad responses under load were not the body sent"
    rows+=("$(awk -v a="$allocator" -v rps="$(field rps)" -v bytes="$(field bytes)" -v secs="$(field seconds)" \
        -v p50="$(field p50_us)" -v p99="$(field p99_us)" -v max="$(field max_us)" -v n="$(field requests)" \
        -v errs="$(field socket_errors)" -v hwm="$hwm_kib" \
        'BEGIN { printf "| %s | %d | %.0f | %.1f | %.2f | %.2f | %.1f | %d | %s |", a, n, rps, bytes / secs / 1048576, p50 / 1000, p99 / 1000, max / 1000, hwm / 1024, errs }')")
done

table="$(
    echo "<!-- serve-benchmark:begin (written by allocator-bench/serve-benchmark.sh; do not edit by hand) -->"
    echo
    echo "Run of $(date -u +%Y-%m-%dT%H:%MZ): wrk -t $WRK_THREADS -c $CONNECTIONS -d ${DURATION}s on 127.0.0.1, bodies of 1 B to 1 MiB"
    echo "(serve-wrk.lua's mix), server with $SERVER_THREADS event-loop threads, -Xmx512m, Netty's Java 25 defaults (no Unsafe)."
    echo "Every response under load was checked for status, checksum header and body; serve-check.py passed before and after;"
    echo "the spanheap server reported 0 live objects and 0 bytes used at exit."
    echo
    echo "| allocator | requests | requests/s | MiB/s (responses) | p50 ms | p99 ms | max ms | peak RSS MiB | socket errors |"
    echo "|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "<!-- serve-benchmark:end -->"
)"
echo "$table"
if [[ "${NO_DOC:-0}" != "1" ]]; then
    python3 - "$DOC" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin = text.find("<!-- serve-benchmark:begin")
end = text.find("<!-- serve-benchmark:end -->")
if begin >= 0 and end > begin:
    text = text[:begin] + table + text[end + len("<!-- serve-benchmark:end -->"):]
else:
    text = text.rstrip("\n") + "\n\n" + table + "\n"
open(path, "w").write(text)
PY
    echo "serve-benchmark: wrote the table into $DOC"
fi
