#!/usr/bin/env bash
# cluster_bench.sh — etcd 3.4 and AEGIS side by side on this machine (issue 3).
#
# For each of R runs (alternating etcd, AEGIS) it starts a fresh 3-node cluster on 127.0.0.1 in its
# own temp dir (fsync on for both: etcd's default, AEGIS has no switch), waits for a leader through
# `etcdctl endpoint status` (deadline, no blind sleep), drives it with bench/etcd-load and stops
# exactly the processes it started. Workloads (same value size and key space for both):
#   seq  1 client, leader only           -> commit latency of one write at a time
#   c16  16 clients over all endpoints   -> throughput and latency (followers forward to the leader)
#   c64  64 clients over all endpoints
# Then prints a markdown table of medians: ratio = AEGIS/etcd for throughput, etcd/AEGIS for
# latency, so > 1.0 means AEGIS is better. Usage: bench/cluster_bench.sh --help
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

runs=3
duration_s=8
warmup_s=2
value_bytes=256
key_space=10000
only=both
build_dir="$root/build-release"
do_build=1
data_root="${TMPDIR:-/tmp}"
aegis_node=""
leader_only_all=0

usage() {
  cat <<'TXT'
usage: bench/cluster_bench.sh [options]
  --runs R            repetitions per system, alternating etcd/AEGIS (default 3)
  --duration-s S      measured seconds per workload (default 8)
  --warmup-s S        unmeasured seconds before each workload (default 2)
  --value-bytes B     Put value size (default 256)
  --key-space K       keys drawn uniformly from K keys (default 10000)
  --only etcd|aegis|both   which half to run (default both)
  --leader-only       every workload targets only the leader (default: only the 1-client one)
  --build-dir DIR     where etcd-load and aegis-node are built (default build-release)
  --aegis-node PATH   the node binary (default BUILD_DIR/actors/aegis-node)
  --data-root DIR     parent of the clusters' temp dirs (default $TMPDIR or /tmp)
  --no-build          do not build etcd-load / aegis-node first
Environment: AEGIS_LAUNCHER=auto|aegis|script|own: `./aegis cluster up` (auto: when ./aegis has
it), config/cluster.sh directly, or this script's own starter.
TXT
}

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --duration-s) duration_s="$2"; shift ;;
    --warmup-s) warmup_s="$2"; shift ;;
    --value-bytes) value_bytes="$2"; shift ;;
    --key-space) key_space="$2"; shift ;;
    --only) only="$2"; shift ;;
    --leader-only) leader_only_all=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --aegis-node) aegis_node="$2"; shift ;;
    --data-root) data_root="$2"; shift ;;
    --no-build) do_build=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "cluster_bench: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$only" in etcd|aegis|both) ;; *) echo "cluster_bench: --only etcd|aegis|both" >&2; exit 2 ;; esac
[ -n "$aegis_node" ] || aegis_node="$build_dir/actors/aegis-node"
load="$build_dir/bench/etcd-load"
export ETCDCTL_API=3

# ---------------------------------------------------------------- process bookkeeping and cleanup
work="$(mktemp -d "$data_root/aegis-cluster-bench.XXXXXX")"
started_pids=()       # every server process this script started and has not stopped yet
aegis_launcher_dir="" # set while a cluster started by `./aegis cluster up` is running

stop_pids() {  # SIGTERM, wait up to 10 s for each, then SIGKILL; only the PIDs given
  local pid deadline
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  deadline=$((SECONDS + 10))
  for pid in "$@"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  local keep=() p
  for p in "${started_pids[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
  started_pids=("${keep[@]}")
}

cleanup() {
  local rc=$?
  [ -z "$aegis_launcher_dir" ] || "${launcher[@]}" down --dir "$aegis_launcher_dir" >/dev/null 2>&1 || true
  [ ${#started_pids[@]} -eq 0 ] || stop_pids "${started_pids[@]}"
  if [ $rc -eq 0 ]; then rm -rf "$work"; else echo "cluster_bench: logs kept in $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------------- helpers
# A block of 300 ports (the launcher uses P+K, P+100+K, P+200+K) below the ephemeral range, none
# of them in use right now.
free_port_base() {
  local used base p ok
  used=" $(ss -Htan | awk '{n = split($4, a, ":"); printf "%s ", a[n]}') "
  for _ in $(seq 1 50); do
    base=$((20000 + (RANDOM % 40) * 300))
    ok=1
    for p in $(seq "$base" $((base + 299))); do [[ "$used" == *" $p "* ]] && { ok=0; break; }; done
    [ $ok -eq 1 ] && { echo "$base"; return 0; }
  done
  echo "cluster_bench: no free port block found" >&2
  return 1
}

# Polls `etcdctl endpoint status` until every endpoint answers and all name the same leader.
# Fails at once, showing the end of its log, if one of the given server processes has exited.
wait_for_leader() {  # ENDPOINTS(comma list) DEADLINE_S [PID:LOGFILE ...]
  local eps="$1" deadline=$((SECONDS + $2)) n out proc
  shift 2
  n=$(tr ',' '\n' <<<"$eps" | wc -l)
  while [ $SECONDS -lt $deadline ]; do
    for proc in "$@"; do
      kill -0 "${proc%%:*}" 2>/dev/null && continue
      echo "cluster_bench: server pid ${proc%%:*} exited; end of ${proc#*:}:" >&2
      tail -n 5 "${proc#*:}" >&2
      return 1
    done
    out=$(etcdctl --endpoints="$eps" --dial-timeout=1s --command-timeout=2s endpoint status \
      -w json 2>/dev/null || true)
    if [ -n "$out" ] && jq -e --argjson n "$n" 'length == $n and all(.[]; .Status.leader != 0)
        and ([.[].Status.leader] | unique | length == 1)' <<<"$out" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  echo "cluster_bench: no leader on $eps within $2 s" >&2
  return 1
}

# ------------------------------------------------------------------------------------ etcd 3.4
etcd_endpoints=""
etcd_pids=()
etcd_up() {  # DIR
  local dir="$1" base cluster="" i procs=()
  base=$(free_port_base)
  for i in 1 2 3; do cluster+="${cluster:+,}e$i=http://127.0.0.1:$((base + 10 + i))"; done
  etcd_endpoints=""
  etcd_pids=()
  for i in 1 2 3; do
    local client="http://127.0.0.1:$((base + i))" peer="http://127.0.0.1:$((base + 10 + i))"
    /usr/bin/etcd --name "e$i" --data-dir "$dir/e$i" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token "bench-$base" --logger zap --log-level warn >"$dir/e$i.log" 2>&1 &
    etcd_pids+=($!)
    started_pids+=($!)
    procs+=("$!:$dir/e$i.log")
    etcd_endpoints+="${etcd_endpoints:+,}127.0.0.1:$((base + i))"
  done
  wait_for_leader "$etcd_endpoints" 30 "${procs[@]}"
}
etcd_down() { stop_pids "${etcd_pids[@]}"; etcd_pids=(); }

# ---------------------------------------------------------------------------------------- AEGIS
# Two starters behind aegis_up/aegis_down: the project's launcher (`./aegis cluster up`) once it
# exists, else own_aegis_up below, which writes the node configs of COMMON.md itself.
aegis_endpoints=""
aegis_pids=()
launcher=("$root/aegis" cluster)
use_launcher() {
  case "${AEGIS_LAUNCHER:-auto}" in
    aegis) return 0 ;;
    script) launcher=(bash "$root/config/cluster.sh") ;;  # what `./aegis cluster` execs
    own) return 1 ;;
    *) "$root/aegis" help 2>/dev/null | grep -qE '^ +cluster' ;;
  esac
}

aegis_procs=()  # PID:LOGFILE of the nodes own_aegis_up started
aegis_up() {  # DIR
  local base
  base=$(free_port_base)
  aegis_procs=()
  if use_launcher; then
    aegis_launcher_dir="$1"
    "${launcher[@]}" up --nodes 3 --dir "$1" --base-port "$base" --bin "$aegis_node" \
      >"$1/launcher.log" 2>&1 || { cat "$1/launcher.log" >&2; return 1; }
    # The client endpoints are whatever the launcher wrote as client_listen in the node configs.
    aegis_endpoints=$(cat "$1"/node*.ini | grep -oE '^client_listen *= *"[^"]+"' |
      sed -E 's/.*"(.+)"/\1/' | sort -u | paste -sd, -)
  else
    own_aegis_up "$1" "$base"
  fi
  wait_for_leader "$aegis_endpoints" 30 "${aegis_procs[@]}"
}

aegis_down() {
  if [ -n "$aegis_launcher_dir" ]; then
    "${launcher[@]}" down --dir "$aegis_launcher_dir" >>"$aegis_launcher_dir/launcher.log" 2>&1
    aegis_launcher_dir=""
  else
    stop_pids "${aegis_pids[@]}"
    aegis_pids=()
  fi
}

own_aegis_up() {  # DIR BASE_PORT — peers BASE+i, clients BASE+10+i, metrics BASE+20+i
  local dir="$1" base="$2" peers="" i
  for i in 1 2 3; do peers+="${peers:+,}\"$i=127.0.0.1:$((base + i))\""; done
  aegis_endpoints=""
  aegis_pids=()
  for i in 1 2 3; do
    cat >"$dir/node$i.ini" <<INI
[node]
id=$i
peers=[$peers]
client_listen="127.0.0.1:$((base + 10 + i))"
metrics_listen="127.0.0.1:$((base + 20 + i))"
data_dir="$dir/node$i"
fault_injection=false
[raft]
heartbeat_interval_ms=100ms
election_timeout_ms_min=1000ms
election_timeout_ms_max=2000ms
snapshot_threshold_entries=10000
snapshot_catchup_entries=5000
INI
    # COMMON.md writes --node.bootstrap=true, but the node's parser takes the bare flag.
    "$aegis_node" --config-file="$dir/node$i.ini" --node.bootstrap >"$dir/node$i.log" 2>&1 &
    aegis_pids+=($!)
    started_pids+=($!)
    aegis_procs+=("$!:$dir/node$i.log")
    aegis_endpoints+="${aegis_endpoints:+,}127.0.0.1:$((base + 10 + i))"
  done
}

# ------------------------------------------------------------------------------------ measuring
declare -A results  # "system.workload.metric" -> space-separated values, one per run
workloads=(seq c16 c64)
declare -A wl_clients=([seq]=1 [c16]=16 [c64]=64)

field() { grep -oE "(^| )$2=[^ ]+" <<<"$1" | head -1 | cut -d= -f2; }

run_workload() {  # SYSTEM WORKLOAD ENDPOINTS
  local sys="$1" wl="$2" eps="$3" flags=() line out
  if [ "$wl" = seq ] || [ $leader_only_all -eq 1 ]; then flags+=(--leader-only); fi
  out=$("$load" --endpoints "$eps" --clients "${wl_clients[$wl]}" --duration-s "$duration_s" \
    --warmup-s "$warmup_s" --value-bytes "$value_bytes" --key-space "$key_space" \
    --label "$sys.$wl" "${flags[@]}" 2>>"$work/etcd-load.err") || true
  line=$(grep '^RESULT' <<<"$out" || true)
  if [ -z "$line" ]; then
    echo "cluster_bench: etcd-load gave no RESULT for $sys $wl (see $work/etcd-load.err)" >&2
    return 1
  fi
  echo "$line" >>"$work/results.txt"
  printf '  %-5s %-4s %s\n' "$sys" "$wl" "$(grep -v '^RESULT' <<<"$out" | head -1)"
  local m
  for m in tput p50_ms p99_ms errors; do results[$sys.$wl.$m]+="$(field "$line" "$m") "; done
}

bench_system() {  # SYSTEM RUN
  local sys="$1" dir="$work/$1-run$2" eps wl
  mkdir -p "$dir"
  if [ "$sys" = etcd ]; then etcd_up "$dir"; eps="$etcd_endpoints"; else aegis_up "$dir"; eps="$aegis_endpoints"; fi
  for wl in "${workloads[@]}"; do run_workload "$sys" "$wl" "$eps"; done
  if [ "$sys" = etcd ]; then etcd_down; else aegis_down; fi
  rm -rf "$dir"/e? "$dir"/node?  # data only; logs stay until the end
}

median() {  # "V1 V2 ..." -> median, or nothing when there are no values
  tr -s ' ' '\n' <<<"$1" | sort -g | awk 'NF {v[++n] = $1} END { if (n == 0) exit
    if (n % 2) printf "%.3f", v[(n + 1) / 2]; else printf "%.3f", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

# ------------------------------------------------------------------------------------- report
fsync_probe_ms() {  # mean ms per 4 KiB O_DSYNC write in DIR (the cost each commit pays at least)
  local n=200 secs
  secs=$(dd if=/dev/zero of="$1/fsync-probe" bs=4k count=$n oflag=dsync 2>&1 |
    awk -F', ' '/copied/ {split($(NF - 1), a, " "); print a[1]}')
  rm -f "$1/fsync-probe"
  awk -v s="$secs" -v n=$n 'BEGIN {printf "%.3f", s * 1000 / n}'
}

print_machine() {
  local cpu disk
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  disk=$(df -hT "$work" | awk 'NR == 2 {printf "%s (%s, %s total, %s free)", $1, $2, $3, $5}')
  echo "Machine: $cpu, $(nproc) cores; kernel $(uname -r); data dir $work on $disk;" \
    "4 KiB O_DSYNC write (dd, mean of 200): $fsync_before_ms ms before the runs," \
    "$(fsync_probe_ms "$work") ms after"
  echo "Load: $duration_s s measured after $warmup_s s warm-up per workload, $value_bytes-byte" \
    "values, $key_space keys, $runs run(s) per system, medians shown; fsync on for both."
  echo "Load average (1/5/15 min) before: $loadavg_before; after: $(cut -d' ' -f1-3 /proc/loadavg)" \
    "(other work on these $(nproc) cores skews both halves)"
}

row() {  # LABEL WORKLOAD METRIC KIND(tput|lat)
  local e a ratio
  e=$(median "${results[etcd.$2.$3]:-}")
  a=$(median "${results[aegis.$2.$3]:-}")
  ratio=n/a
  if [ -n "$e" ] && [ -n "$a" ]; then
    if [ "$4" = tput ]; then ratio=$(awk -v x="$a" -v y="$e" 'BEGIN {print (y > 0) ? sprintf("%.2f", x / y) : "n/a"}')
    else ratio=$(awk -v x="$e" -v y="$a" 'BEGIN {print (y > 0) ? sprintf("%.2f", x / y) : "n/a"}'); fi
  fi
  local digits=2  # ms to 10 us; ops/s whole
  [ "$4" = lat ] || digits=0
  [ -z "$e" ] || e=$(printf '%.*f' "$digits" "$e")
  [ -z "$a" ] || a=$(printf '%.*f' "$digits" "$a")
  echo "| $1 | ${e:-n/a} | ${a:-n/a} | $ratio |"
}

print_table() {
  echo
  echo "| metric | etcd 3.4 | AEGIS | ratio |"
  echo "|---|---|---|---|"
  row "1 client (leader): p50 latency, ms" seq p50_ms lat
  row "1 client (leader): p99 latency, ms" seq p99_ms lat
  row "1 client (leader): throughput, ops/s" seq tput tput
  local wl
  for wl in c16 c64; do
    row "${wl_clients[$wl]} clients: throughput, ops/s" "$wl" tput tput
    row "${wl_clients[$wl]} clients: p50 latency, ms" "$wl" p50_ms lat
    row "${wl_clients[$wl]} clients: p99 latency, ms" "$wl" p99_ms lat
  done
  local sys errs
  for sys in etcd aegis; do
    errs=$(echo "${results[$sys.seq.errors]:-} ${results[$sys.c16.errors]:-}" \
      "${results[$sys.c64.errors]:-}" | awk '{for (i = 1; i <= NF; ++i) s += $i} END {print s + 0}')
    [ "$errs" -eq 0 ] || echo "WARNING: $sys runs had $errs RPC error(s) in total"
  done
  echo "(ratio: AEGIS/etcd for throughput, etcd/AEGIS for latency; > 1.0 means AEGIS is better)"
}

# ---------------------------------------------------------------------------------------- main
build_targets() {
  local targets=(etcd-load)
  [ -f "$build_dir/CMakeCache.txt" ] ||
    flock /tmp/aegis-build.lock cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -G Ninja >/dev/null
  if [ "$only" != etcd ] && cmake --build "$build_dir" --target help 2>/dev/null | grep -q '^aegis-node:'; then
    targets+=(aegis-node)
  fi
  if ! flock /tmp/aegis-build.lock cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]}" \
      >"$work/build.log" 2>&1; then
    grep -E 'error|FAILED' "$work/build.log" | head -20 >&2
    echo "cluster_bench: building ${targets[*]} failed (full log: $work/build.log)" >&2
    return 1
  fi
}

# etcd 3.4 and etcdctl (Debian's etcd-server, etcd-client), jq for etcdctl's JSON, ss (iproute2).
ensure_tools() {
  local missing=() sudo=""
  [ -x /usr/bin/etcd ] || missing+=(etcd-server)
  command -v etcdctl >/dev/null || missing+=(etcd-client)
  command -v jq >/dev/null || missing+=(jq)
  command -v ss >/dev/null || missing+=(iproute2)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "cluster_bench: installing Debian packages: ${missing[*]}" >&2
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

[ $do_build -eq 0 ] || build_targets
[ -x "$load" ] || { echo "cluster_bench: $load is missing (build target etcd-load)" >&2; exit 1; }
ensure_tools
systems=()
[ "$only" = aegis ] || systems+=(etcd)
if [ "$only" != etcd ]; then
  if [ -x "$aegis_node" ]; then systems+=(aegis)
  else echo "cluster_bench: $aegis_node not built yet: AEGIS half skipped" >&2; fi
fi

loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
fsync_before_ms=$(fsync_probe_ms "$work")
# Alternate which system goes first, so neither always runs on a machine the other just warmed.
for run in $(seq 1 "$runs"); do
  echo "run $run/$runs"
  order=("${systems[@]}")
  [ $((run % 2)) -eq 1 ] || [ ${#systems[@]} -ne 2 ] || order=("${systems[1]}" "${systems[0]}")
  for sys in "${order[@]}"; do bench_system "$sys" "$run"; done
done
echo
print_machine
print_table
