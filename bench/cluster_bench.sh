#!/usr/bin/env bash
# cluster_bench.sh — etcd 3.4 and AEGIS side by side on this machine (issues 3 and 4).
#
# For each of R runs (alternating etcd, AEGIS) it starts a fresh 3-node cluster on 127.0.0.1 in its
# own temp dir (fsync on for both: etcd's default, AEGIS has no switch), waits for a leader through
# `etcdctl endpoint status` (deadline, no blind sleep), runs the selected workloads against it with
# the load generators in bench/ and stops exactly the processes it started (servers and load
# generators, also on failure and Ctrl-C). Workloads (--workloads, same parameters for both):
#   put    seq: 1 client, leader only -> commit latency of one write at a time
#          c16, c64: 16 / 64 clients over all endpoints -> throughput and latency (followers
#          forward to the leader); etcd-load --op put, V-byte values over K keys
#   range  r64: 64 clients, linearizable Range of one existing key (all K keys preloaded first,
#          unmeasured); etcd-load --op range --preload
#   txn    t16, t64: 16 / 64 clients, Txn{if version(key) > 0 then put(key) else put(key)};
#          etcd-load --op txn
#   watch  W watchers on one prefix over S Watch streams (round-robin over the endpoints), one
#          writer on the leader, closed loop (or --watch-rate puts/s); events delivered/s and
#          put -> event delay; bench/etcd-watch-fanout
#   lease  L leases granted first (unmeasured, TTL T s), then 64 keep-alive streams round-robin
#          over the endpoints, one keep-alive outstanding each; bench/etcd-lease-load
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
workload_list=put,range,txn,watch,lease
watchers=1000
watch_streams=10
watch_rate=0
leases=10000
lease_streams=64
lease_ttl_s=60

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
  --workloads LIST    comma list of put,range,txn,watch,lease (default: all of them)
  --watchers W        watch: watches on the prefix (default 1000)
  --watch-streams S   watch: Watch streams they are spread over (default 10)
  --watch-rate R      watch: writer puts/s at most, 0 = closed loop (default 0; the writer has
                      one Put outstanding either way)
  --leases L          lease: leases granted before the keep-alives (default 10000)
  --lease-streams N   lease: keep-alive streams (default 64)
  --lease-ttl-s T     lease: their TTL in seconds (default 60)
  --build-dir DIR     where the load generators and aegis-node are built (default build-release)
  --aegis-node PATH   the node binary (default BUILD_DIR/actors/aegis-node)
  --data-root DIR     parent of the clusters' temp dirs (default $TMPDIR or /tmp)
  --no-build          do not build the load generators / aegis-node first
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
    --workloads) workload_list="$2"; shift ;;
    --watchers) watchers="$2"; shift ;;
    --watch-streams) watch_streams="$2"; shift ;;
    --watch-rate) watch_rate="$2"; shift ;;
    --leases) leases="$2"; shift ;;
    --lease-streams) lease_streams="$2"; shift ;;
    --lease-ttl-s) lease_ttl_s="$2"; shift ;;
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
fanout="$build_dir/bench/etcd-watch-fanout"
lease_load="$build_dir/bench/etcd-lease-load"
# The workload groups of --workloads and the workloads (result keys) each one runs, in order.
declare -A group_workloads=([put]="seq c16 c64" [range]="r64" [txn]="t16 t64" [watch]="watch"
  [lease]="lease")
workloads=()
for g in ${workload_list//,/ }; do
  [ -n "${group_workloads[$g]:-}" ] || { echo "cluster_bench: unknown workload $g" >&2; exit 2; }
  read -ra ws <<<"${group_workloads[$g]}"
  workloads+=("${ws[@]}")
done
[ ${#workloads[@]} -gt 0 ] || { echo "cluster_bench: --workloads is empty" >&2; exit 2; }
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
  # Snapshot cadence as etcd's (its --snapshot-count defaults to 100,000 entries, catch-up 5,000),
  # so neither side snapshots more often than the other.
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
snapshot_threshold_entries=100000
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
declare -A wl_clients=([seq]=1 [c16]=16 [c64]=64 [r64]=64 [t16]=16 [t64]=64)

# The load generator's command line for a workload (into the array `cmd`).
workload_cmd() {  # WORKLOAD ENDPOINTS LABEL
  local kv=(--value-bytes "$value_bytes" --key-space "$key_space")
  case "$1" in
    seq|c16|c64) cmd=("$load" --op put --clients "${wl_clients[$1]}" "${kv[@]}") ;;
    r64) cmd=("$load" --op range --preload --clients "${wl_clients[$1]}" "${kv[@]}") ;;
    t16|t64) cmd=("$load" --op txn --clients "${wl_clients[$1]}" "${kv[@]}") ;;
    watch) cmd=("$fanout" --watchers "$watchers" --streams "$watch_streams" --rate "$watch_rate"
      --value-bytes "$value_bytes") ;;
    lease) cmd=("$lease_load" --leases "$leases" --streams "$lease_streams"
      --ttl-s "$lease_ttl_s") ;;
  esac
  cmd+=(--endpoints "$2" --duration-s "$duration_s" --warmup-s "$warmup_s" --label "$3")
  if [ "$1" = seq ] || [ $leader_only_all -eq 1 ]; then cmd+=(--leader-only); fi
}

# Runs a load generator in the background under a time limit, tracked in started_pids so the
# EXIT trap stops it too; its stdout goes to OUTFILE. Never fails (the RESULT line tells).
run_tracked() {  # OUTFILE LIMIT_S CMD...
  local out="$1" limit="$2" pid keep=() p
  shift 2
  timeout -k 5 "$limit" "$@" >"$out" 2>>"$work/load.err" &
  pid=$!
  started_pids+=("$pid")
  wait "$pid" || true
  for p in "${started_pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  started_pids=("${keep[@]}")
}

run_workload() {  # SYSTEM WORKLOAD ENDPOINTS
  local sys="$1" wl="$2" line out kv cmd=()
  workload_cmd "$wl" "$3" "$sys.$wl"
  # Warm-up + measured time, plus room for preloading keys / granting leases / creating watches.
  run_tracked "$work/out.txt" "$(awk -v w="$warmup_s" -v d="$duration_s" \
    'BEGIN {printf "%d", w + d + 180}')" "${cmd[@]}"
  out=$(cat "$work/out.txt")
  line=$(grep '^RESULT' <<<"$out" || true)
  if [ -z "$line" ]; then
    echo "cluster_bench: ${cmd[0]##*/} gave no RESULT for $sys $wl (see $work/load.err)" >&2
    return 1
  fi
  echo "$line" >>"$work/results.txt"
  printf '  %-5s %-5s %s\n' "$sys" "$wl" "$(grep -v '^RESULT' <<<"$out" | head -1)"
  grep -E '^(WARNING|note):' <<<"$out" | sed 's/^/        /' || true
  for kv in ${line#RESULT }; do results[$sys.$wl.${kv%%=*}]+="${kv#*=} "; done
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
  echo "Workloads: ${workloads[*]}; watch: $watchers watchers on $watch_streams streams," \
    "writer rate $watch_rate/s (0: closed loop); lease: $leases leases (TTL $lease_ttl_s s)," \
    "$lease_streams keep-alive streams."
  echo "Load average (1/5/15 min) before: $loadavg_before; after: $(cut -d' ' -f1-3 /proc/loadavg)" \
    "(other work on these $(nproc) cores skews both halves)"
}

row() {  # LABEL WORKLOAD METRIC KIND(tput|lat); nothing when neither system ran WORKLOAD
  local e a ratio
  e=$(median "${results[etcd.$2.$3]:-}")
  a=$(median "${results[aegis.$2.$3]:-}")
  [ -n "$e$a" ] || return 0
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

# Throughput, p50 and p99 rows of one workload; THING names what the throughput counts.
rows3() {  # LABEL WORKLOAD THING
  row "$1: throughput, $3/s" "$2" tput tput
  row "$1: p50 latency, ms" "$2" p50_ms lat
  row "$1: p99 latency, ms" "$2" p99_ms lat
}

# Sum over every run and workload of SYSTEM of one RESULT field.
total() {  # SYSTEM METRIC
  local wl all=""
  for wl in "${workloads[@]}"; do all+="${results[$1.$wl.$2]:-} "; done
  awk '{for (i = 1; i <= NF; ++i) s += $i} END {print s + 0}' <<<"$all"
}

warn_totals() {
  local sys n
  for sys in etcd aegis; do
    n=$(total "$sys" errors)
    [ "$n" -eq 0 ] || echo "WARNING: $sys runs had $n RPC error(s) in total"
    n=$(median "${results[$sys.watch.cancelled]:-}")
    [ -z "$n" ] || [ "${n%.*}" -eq 0 ] || echo "WARNING: $sys cancelled watches (median $n per run)"
    n=$(median "${results[$sys.r64.misses]:-}")
    [ -z "$n" ] || [ "${n%.*}" -eq 0 ] || echo "WARNING: $sys ranges found no key (median $n per run)"
    n=$(median "${results[$sys.lease.misses]:-}")
    [ -z "$n" ] || [ "${n%.*}" -eq 0 ] || echo "WARNING: $sys keep-alives answered TTL <= 0 (median $n)"
  done
}

print_table() {
  echo
  echo "| workload | etcd 3.4 | AEGIS | ratio (> 1: AEGIS better) |"
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
  rows3 "range, 64 clients (linearizable)" r64 ops
  rows3 "txn, 16 clients" t16 ops
  rows3 "txn, 64 clients" t64 ops
  row "watch, $watchers watchers: events delivered/s" watch tput tput
  row "watch, $watchers watchers: writer puts/s" watch puts_per_s tput
  row "watch, $watchers watchers: delivery delay p50, ms" watch p50_ms lat
  row "watch, $watchers watchers: delivery delay p99, ms" watch p99_ms lat
  rows3 "lease, $lease_streams keep-alive streams" lease keep-alives
  warn_totals
  echo "(ratio: AEGIS/etcd for throughput, etcd/AEGIS for latency; > 1.0 means AEGIS is better)"
}

# ---------------------------------------------------------------------------------------- main
build_targets() {
  local targets=(etcd-load etcd-watch-fanout etcd-lease-load)
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
for tool in "$load" "$fanout" "$lease_load"; do
  [ -x "$tool" ] || { echo "cluster_bench: $tool is missing (build target ${tool##*/})" >&2; exit 1; }
done
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
