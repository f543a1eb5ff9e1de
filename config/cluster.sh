#!/usr/bin/env bash
# config/cluster.sh: starts, inspects and stops a local AEGIS cluster of aegis-node processes
# (issue 3); `./aegis cluster ...` execs this file. One directory holds everything of a cluster:
#   DIR/.aegis-cluster  how `up` created it (node count, host, base port, binary)
#   DIR/nodeK.ini       node K's config (CAF INI)    DIR/nodeK/data  node K's data dir
#   DIR/nodeK.log       node K's stdout and stderr   DIR/nodeK.pid   node K's PID while it runs
# Processes are found only through the pid files and are signalled only after /proc/PID/cmdline
# shows the node binary with that node's config file, so a recycled PID is never killed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prog="${AEGIS_CLUSTER_PROG:-./aegis cluster}"       # how the help text names this command
wait_s="${AEGIS_CLUSTER_TIMEOUT_S:-30}"            # deadline of every wait for a leader/answer
stop_grace_s=10                                    # SIGTERM -> SIGKILL after this long
poll_s=0.1                                         # pause between two polls of a condition
py=/usr/bin/python3
[ -x "$py" ] || py=python3

# Options (filled by parse_args).
dir="$root/cluster"
nodes=5
base_port=21000
host=127.0.0.1
bin=""
fault=false
wipe=0
node_arg=""
nodes_given=0
port_given=0
raft_overrides=()

usage() {
  cat <<TXT
usage: $prog <command> [options]

Runs a cluster of aegis-node processes on this machine, one directory per cluster.

commands:
  up [--nodes N] [--dir DIR] [--base-port P] [--fault-injection] [--bin PATH]
     [--raft.KEY=VALUE ...]
        first time: write DIR/nodeK.ini for K=1..N, bootstrap and start N nodes; later: start
        the stopped nodes of the cluster in DIR again (no bootstrap, data is kept). Waits until
        one leader is elected, then prints the endpoints (client, peer, metrics) and the PIDs.
  down [--dir DIR] [--wipe]
        SIGTERM every node this tool started, resuming paused ones first (SIGKILL after
        ${stop_grace_s} s); --wipe then deletes DIR.
  status [--dir DIR]
        per node: process running/paused/dead, role, leader, term, commit/applied index.
        Exits 0 when every node answers and all agree on one leader, else 1.
  kill-leader [--dir DIR]
        SIGKILL the current leader, wait for a new one, print how long the election took.
  kill NODE [--dir DIR]      SIGKILL node NODE (a crash: "3" or "node3")
  pause NODE [--dir DIR]     SIGSTOP node NODE: it stays alive but answers nothing (a hung process)
  resume NODE [--dir DIR]    SIGCONT node NODE after a pause
  restart NODE [--dir DIR] [--bin PATH]
        start node NODE again from its data dir (stops it first if it runs); wait until it answers

defaults: N=5 (at most 99), DIR=$root/cluster, P=21000, binary $root/build/actors/aegis-node.
Ports of node K: peer P+K, client (etcd v3 gRPC) P+100+K, metrics P+200+K, all on $host.
--raft.KEY=VALUE goes into the [raft] section of every node (aegis-node --long-help lists them;
ms keys accept "150" or "150ms"). Waits give up after ${wait_s} s (AEGIS_CLUSTER_TIMEOUT_S).

examples:
  $prog up --nodes 3 --base-port 24000
  ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:21101,127.0.0.1:21102 put greeting hello
  $prog kill-leader && $prog status
  $prog down --wipe
TXT
}

die() {
  echo "cluster: $*" >&2
  exit 1
}

# --- arguments -----------------------------------------------------------------------------------

# Whether command $1 takes option $2.
allowed() {
  case "$1:$2" in
    *:--dir | down:--wipe | restart:--bin) return 0 ;;
    up:--nodes | up:--base-port | up:--fault-injection | up:--bin | up:--raft.*) return 0 ;;
  esac
  return 1
}

# "--raft.heartbeat_interval_ms=50" -> "heartbeat_interval_ms=50ms" in raft_overrides: a bare number
# for an ms key is no timespan to CAF.
add_raft_override() {
  local key=${1#--raft.} value=$2
  [[ $key =~ ^[a-z_]+$ ]] || die "--raft.$key: a key is lower case letters and '_'"
  [ -n "$value" ] || die "--raft.$key needs a value: --raft.$key=VALUE"
  [[ ($key == *_ms || $key == *_ms_*) && $value =~ ^[0-9]+$ ]] && value="${value}ms"
  raft_overrides+=("$key=$value")
}

parse_args() {
  local cmd=$1 opt value
  shift
  while [ $# -gt 0 ]; do
    opt=$1 value=""
    [[ $opt == --*=* ]] && value=${opt#*=} && opt=${opt%%=*}
    if [[ $opt != -* ]]; then
      takes_node "$cmd" || die "$cmd: unexpected '$opt'"
      node_arg=$opt && shift && continue
    fi
    allowed "$cmd" "$opt" || die "$cmd: unknown option $opt (see $prog --help)"
    case "$opt" in
      --dir | --nodes | --base-port | --bin)
        if [[ $1 != *=* ]]; then
          [ $# -ge 2 ] || die "$opt needs a value"
          value=$2 && shift
        fi ;;
    esac
    case "$opt" in
      --dir) dir=$value ;;
      --nodes) nodes=$value nodes_given=1 ;;
      --base-port) base_port=$value port_given=1 ;;
      --bin) bin=$value ;;
      --fault-injection) fault=true ;;
      --wipe) wipe=1 ;;
      --raft.*) add_raft_override "$opt" "$value" ;;
    esac
    shift
  done
  [ -n "$dir" ] || die "--dir needs a directory"
  dir=$(realpath -m -- "$dir")
  [ -n "$node_arg" ] || ! takes_node "$cmd" || die "$cmd: which node? ($prog $cmd K)"
}

# Whether command $1 takes a NODE argument not given yet.
takes_node() { [[ ($1 == kill || $1 == restart || $1 == pause || $1 == resume) && -z $node_arg ]]; }

# Whether $1 is a decimal number from $2 to $3.
in_range() { [[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= $2 && 10#$1 <= $3)); }

check_numbers() {
  in_range "$nodes" 1 99 || die "--nodes: expected 1..99, got '$nodes'"
  nodes=$((10#$nodes))
  in_range "$base_port" 1024 $((65535 - 200 - nodes)) ||
    die "--base-port: expected 1024..$((65535 - 200 - nodes)) (room for P+200+N), got '$base_port'"
  base_port=$((10#$base_port))
}

check_tools() {
  command -v etcdctl >/dev/null || die "etcdctl not found: apt-get install etcd-client"
  command -v "$py" >/dev/null || die "python3 not found: apt-get install python3"
}

# Makes $bin an absolute path to an executable node binary.
resolve_bin() {
  [ -n "$bin" ] || bin="$root/build/actors/aegis-node"
  bin=$(realpath -m -- "$bin")
  [ -x "$bin" ] || die "no node binary at $bin (build it: ./aegis build, or pass --bin PATH)"
}

# Checks each --raft.KEY=VALUE against the keys and types the binary lists (--long-help): the node
# keeps the default for a config-file value of the wrong type instead of refusing it.
check_raft_overrides() {
  local keys o key value line
  ((${#raft_overrides[@]} > 0)) || return 0
  keys=$("$bin" --long-help 2>&1 | grep -oE -- '--raft\.[a-z_]+(=<[a-z0-9]+>)?') || true
  [ -n "$keys" ] || return 0 # a binary that lists none: the node alone checks
  for o in "${raft_overrides[@]}"; do
    key=${o%%=*} value=${o#*=}
    line=$(grep -xE -- "--raft\.$key(=<[a-z0-9]+>)?" <<<"$keys") ||
      die "--raft.$key: no such key; the keys: $(sed -E 's/--raft\.//; s/=.*//' <<<"$keys" | xargs)"
    case "$line" in
      *'<timespan>') [[ $value =~ ^[0-9]+ms$ ]] || line="whole ms (150ms)" ;;
      *'<uint64>') [[ $value =~ ^[0-9]+$ ]] || line="a whole number" ;;
      *) [[ $value =~ ^(true|false)$ ]] || line="true or false" ;;
    esac
    [[ $line == --raft* ]] || die "--raft.$key: expected $line, got '$value'"
  done
}

# --- the cluster directory -----------------------------------------------------------------------

ini_of() { echo "$dir/node$1.ini"; }
data_of() { echo "$dir/node$1/data"; }
log_of() { echo "$dir/node$1.log"; }
pidfile_of() { echo "$dir/node$1.pid"; }
marker() { echo "$dir/.aegis-cluster"; }

# Value of KEY in an INI file, quotes removed ("" when absent).
ini_get() {
  local line
  line=$(grep -m1 -E "^$2[[:space:]]*=" "$1" 2>/dev/null) || return 0
  line=${line#*=}
  line=$(echo "$line" | sed -E 's/^[[:space:]]*"?//; s/"?[[:space:]]*$//')
  echo "$line"
}

# Reads what `up` recorded and every node's endpoints from its config, into globals.
declare -a node_id client_ep peer_ep metrics_ep
load_cluster() {
  [ -f "$(marker)" ] || die "no cluster in $dir (start one: $prog up --dir $dir)"
  local key value k ini peers
  while IFS='=' read -r key value; do
    case "$key" in
      nodes) nodes=$value ;;
      host) host=$value ;;
      base_port) base_port=$value ;;
      bin) [ -n "$bin" ] || bin=$value ;;
    esac
  done <"$(marker)"
  for ((k = 1; k <= nodes; k++)); do
    ini=$(ini_of "$k")
    [ -f "$ini" ] || die "$ini is missing; the cluster in $dir is incomplete ($prog down --wipe)"
    node_id[k]=$(ini_get "$ini" id)
    client_ep[k]=$(ini_get "$ini" client_listen)
    metrics_ep[k]=$(ini_get "$ini" metrics_listen)
    peers=$(ini_get "$ini" peers)
    peer_ep[k]=$(grep -oE "\"${node_id[k]}=[^\"]+\"" <<<"$peers" | head -1 | tr -d '"')
    peer_ep[k]=${peer_ep[k]#*=}
  done
}

# Node K as given on the command line ("3" or "node3"), checked against the cluster.
node_number() {
  local k=${node_arg#node}
  in_range "$k" 1 "$nodes" || die "no node '$node_arg' (nodes 1..$nodes)"
  echo $((10#$k))
}

write_marker() {
  printf 'nodes=%s\nhost=%s\nbase_port=%s\nbin=%s\n' "$nodes" "$host" "$base_port" "$bin" \
    >"$(marker)"
}

# The [raft] section: defaults for a local cluster, then the --raft.KEY=VALUE overrides.
raft_lines() {
  local defaults=(heartbeat_interval_ms=100ms election_timeout_ms_min=1000ms
    election_timeout_ms_max=2000ms snapshot_threshold_entries=100000
    snapshot_catchup_entries=5000)
  local line o
  for line in "${defaults[@]}"; do
    for o in "${raft_overrides[@]}"; do [ "${o%%=*}" != "${line%%=*}" ] || line=""; done
    [ -z "$line" ] || echo "$line"
  done
  for o in "${raft_overrides[@]}"; do echo "$o"; done
}

write_ini() {
  local k=$1 j peers="" clients=""
  for ((j = 1; j <= nodes; j++)); do
    peers+="\"$j=$host:$((base_port + j))\","
    clients+="\"$j=$host:$((base_port + 100 + j))\","
  done
  {
    echo "; node $k of a $nodes-node AEGIS cluster, written by config/cluster.sh"
    echo "[node]"
    echo "id=$k"
    echo "peers=[${peers%,}]"
    echo "clients=[${clients%,}]"
    echo "client_listen=\"$host:$((base_port + 100 + k))\""
    echo "metrics_listen=\"$host:$((base_port + 200 + k))\""
    echo "data_dir=\"$(data_of "$k")\""
    echo "fault_injection=$fault"
    echo "[raft]"
    raft_lines
  } >"$(ini_of "$k")"
}

# What `up` creates in DIR for nodes 1..N that exists: all that `down --wipe` removes.
own_entries() {
  local k f
  for ((k = 1; k <= nodes; k++)); do
    for f in "$(ini_of "$k")" "$dir/node$k" "$(log_of "$k")" "$(pidfile_of "$k")"; do
      [ ! -e "$f" ] || echo "$f"
    done
  done
  # The marker last: a wipe cut short leaves it, so `down --wipe` can finish the job.
  [ ! -e "$(marker)" ] || marker
}

# Whether node K's data dir holds anything (a bootstrapped member).
has_data() { [ -n "$(ls -A "$(data_of "$1")" 2>/dev/null)" ]; }

# --- processes -----------------------------------------------------------------------------------

# Whether PID is alive and is the node binary running node K's config (not a recycled PID).
is_our_node() {
  local pid=$1 k=$2 args=() a name_ok=0 config_ok=0
  pid_exists "$pid" || return 1
  mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || return 1
  # argv[0] is the binary; argv[1] when the binary is a script run by an interpreter.
  for a in "${args[@]:0:2}"; do
    [[ ${a##*/} == aegis-node || (-n $bin && ${a##*/} == "${bin##*/}") ]] && name_ok=1
  done
  for a in "${args[@]}"; do [ "$a" != "--config-file=$(ini_of "$k")" ] || config_ok=1; done
  ((name_ok && config_ok))
}

# Prints node K's PID when its pid file names our live node; fails otherwise.
node_pid() {
  local pid
  read -r pid 2>/dev/null <"$(pidfile_of "$1")" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && is_our_node "$pid" "$1" || return 1
  echo "$pid"
}

# Whether PID is stopped by a signal (SIGSTOP: paused), from the state field of /proc/PID/stat.
is_stopped() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat%% *} == T ]]
}

# Whether PID still exists as a process that has not exited.
pid_exists() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != [ZX] ]]
}

# Starts node K in its own session (no controlling terminal: it outlives this shell, a closed
# terminal and a Ctrl-C here) and records its PID. This shell runs without job control, so a `&`
# child is no process group leader and setsid execs in place: $! is the node's own PID.
start_node() {
  local k=$1 bootstrap=$2 args=(--config-file="$(ini_of "$1")") note="" pid deadline_ms
  # CAF 0.17 takes a bool flag without a value: "--node.bootstrap=true" is a parse error.
  if [ "$bootstrap" = 1 ]; then
    args+=(--node.bootstrap)
    note=" with --node.bootstrap"
  fi
  mkdir -p "$dir/node$k"
  echo "=== $(date -Is) cluster.sh starts node$k$note" >>"$(log_of "$k")"
  setsid "$bin" "${args[@]}" </dev/null >>"$(log_of "$k")" 2>&1 &
  pid=$!
  echo "$pid" >"$(pidfile_of "$k")"
  # Until setsid has exec'd the node, /proc/PID/cmdline still shows setsid; wait for the node.
  deadline_ms=$(($(now_ms) + 5000))
  while pid_exists "$pid" && ! is_our_node "$pid" "$k" && (($(now_ms) < deadline_ms)); do
    sleep 0.01
  done
}

# Tells what happened to node K, which exited, with the end of its log.
report_exit() {
  echo "cluster: node$1 exited; the end of $(log_of "$1"):" >&2
  tail -n 20 "$(log_of "$1")" | sed 's/^/  | /' >&2
  rm -f "$(pidfile_of "$1")"
}

now_ms() {
  local t=${EPOCHREALTIME//[!0-9]/}
  echo $((t / 1000))
}

# Waits until node K's process PID is gone, up to the time DEADLINE_MS; fails if it is still there.
wait_gone() {
  local pid=$1 k=$2 deadline_ms=$3
  while is_our_node "$pid" "$k"; do
    (($(now_ms) < deadline_ms)) || return 1
    sleep "$poll_s"
  done
}

# SIGKILLs node K (a crash) and waits until its process is gone.
crash_node() {
  local k=$1 pid=$2
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" "$k" $(($(now_ms) + 5000)) || die "node$k (pid $pid) survived SIGKILL for 5 s"
  rm -f "$(pidfile_of "$k")"
}

# SIGTERMs the given nodes together, SIGKILLs those still running after the grace period.
stop_nodes() {
  local k pid deadline_ms=$(($(now_ms) + stop_grace_s * 1000))
  local -a pids=()
  for k in "$@"; do
    if pid=$(node_pid "$k"); then
      # A stopped process queues SIGTERM until it runs again: resume it so it can shut down.
      kill -CONT "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
      pids[k]=$pid
    elif [ -f "$(pidfile_of "$k")" ]; then
      echo "node$k: not running (stale pid file removed)"
      rm -f "$(pidfile_of "$k")"
    fi
  done
  for k in "${!pids[@]}"; do
    if wait_gone "${pids[$k]}" "$k" "$deadline_ms"; then
      echo "node$k: stopped (pid ${pids[$k]}, SIGTERM)"
    else
      echo "node$k: still running ${stop_grace_s} s after SIGTERM; SIGKILL (pid ${pids[$k]})"
      crash_node "$k" "${pids[$k]}"
    fi
    rm -f "$(pidfile_of "$k")"
  done
}

# Fails naming every HOST:PORT one of nodes K... would listen on that something already holds.
check_ports_free() {
  local k eps=() busy
  for k in "$@"; do eps+=("${peer_ep[k]}" "${client_ep[k]}" "${metrics_ep[k]}"); done
  # A bind test with SO_REUSEADDR, as servers bind: fails on a listener, not on TIME_WAIT.
  busy=$("$py" -c '
import socket, sys
for ep in sys.argv[1:]:
    host, port = ep.rsplit(":", 1)
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host.strip("[]"), int(port)))
    except OSError as e:
        print(f"  {ep}: {e.strerror}")
    finally:
        s.close()
' "${eps[@]}")
  [ -z "$busy" ] || die "these ports are taken (pick another --base-port; who: ss -ltnp):
$busy"
}

# --- asking the nodes ----------------------------------------------------------------------------

declare -a st_member st_leader st_term st_index st_applied
tmp=""
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT

etcdctl_at() {
  # Direct connections: a proxy from the environment must not see cluster traffic.
  env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u all_proxy -u ALL_PROXY \
    ETCDCTL_API=3 etcdctl --endpoints="$1" --dial-timeout=1s --command-timeout=1s "${@:2}"
}

# Asks nodes K... for Maintenance/Status at once (one etcdctl each, so a dead node costs no
# other's answer) and fills st_* for those that answered.
query_status() {
  local k job_pids=() files=() m l t i a
  [ -n "$tmp" ] || tmp=$(mktemp -d)
  st_member=() st_leader=() st_term=() st_index=() st_applied=()
  for k in "$@"; do
    etcdctl_at "${client_ep[k]}" endpoint status -w json >"$tmp/status$k" 2>/dev/null &
    job_pids+=($!) files+=("$k=$tmp/status$k")
  done
  # Wait for these jobs only: the nodes started by `up` are children of this shell too.
  for k in "${job_pids[@]}"; do wait "$k" || true; done
  while read -r k m l t i a; do
    st_member[k]=$m st_leader[k]=$l st_term[k]=$t st_index[k]=$i st_applied[k]=$a
  done < <("$py" -c '
import json, sys
for arg in sys.argv[1:]:
    k, path = arg.split("=", 1)
    try:
        with open(path) as f:
            s = json.load(f)[0]["Status"]
    except (OSError, ValueError, LookupError, TypeError):
        continue  # no answer
    # etcdctl omits zero-valued fields (leader 0 = no leader known).
    print(k, s.get("header", {}).get("member_id", 0), s.get("leader", 0), s.get("raftTerm", 0),
          s.get("raftIndex", 0), s.get("raftAppliedIndex", 0))
' "${files[@]}")
}

# The node whose member id is M: by the answers, else by the configured ids.
node_of_member() {
  local k
  for k in "${!st_member[@]}"; do [ "${st_member[k]}" != "$1" ] || { echo "$k" && return; }; done
  for k in "${!node_id[@]}"; do [ "${node_id[k]}" != "$1" ] || { echo "$k" && return; }; done
  return 1
}

# The answering node that calls itself leader (highest term if two do, an old one not yet
# stepped down); fails if none does.
self_leader() {
  local k best=""
  for k in "${!st_member[@]}"; do
    [[ ${st_leader[k]} != 0 && ${st_leader[k]} == "${st_member[k]}" ]] || continue
    [ -n "$best" ] && ((st_term[k] <= st_term[best])) || best=$k
  done
  [ -n "$best" ] && echo "$best"
}

# The leader when all nodes K... answered and name the same leader, which calls itself leader.
agreed_leader() {
  local k leader=""
  for k in "$@"; do
    [ -n "${st_leader[k]:-}" ] && [ "${st_leader[k]}" != 0 ] || return 1
    [ -z "$leader" ] || [ "$leader" = "${st_leader[k]}" ] || return 1
    leader=${st_leader[k]}
  done
  k=$(node_of_member "$leader") || return 1
  [ "${st_leader[k]:-}" = "${st_member[k]:-}" ] && echo "$k"
}

# Nodes K... whose process runs, as a list.
running_nodes() {
  local k
  for k in "$@"; do node_pid "$k" >/dev/null && echo "$k"; done
  return 0
}

# Waits until nodes K... agree on a leader and sets leader_k to it; fails if one of them exits
# or at the deadline.
leader_k=""
wait_for_leader() {
  local k dead=() deadline_ms=$(($(now_ms) + wait_s * 1000))
  while true; do
    dead=()
    for k in "$@"; do node_pid "$k" >/dev/null || dead+=("$k"); done
    if ((${#dead[@]} > 0)); then
      # A bad setting stops every node within moments: report all of them, not only the first.
      local grace_ms=$(($(now_ms) + 500))
      while (($(now_ms) < grace_ms)) && [ -n "$(running_nodes "$@")" ]; do sleep "$poll_s"; done
      for k in "$@"; do node_pid "$k" >/dev/null || report_exit "$k"; done
      k=$(running_nodes "$@" | paste -sd' ')
      [ -z "$k" ] || echo "cluster: node(s) $k still run (stop: $prog down --dir $dir)" >&2
      return 1
    fi
    query_status "$@"
    leader_k=$(agreed_leader "$@") && return 0
    if (($(now_ms) >= deadline_ms)); then
      echo "cluster: no leader agreed by node(s) $* after $wait_s s; still running (stop them:" \
        "$prog down --dir $dir); status and log ends:" >&2
      print_status "$@" >&2 || true
      for k in "$@"; do tail -n 3 "$(log_of "$k")" | sed "s/^/  node$k | /" >&2; done
      return 1
    fi
    sleep "$poll_s"
  done
}

# --- output --------------------------------------------------------------------------------------

role_of() {
  local k=$1
  if [ -z "${st_leader[k]:-}" ]; then
    echo "no-answer"
  elif [ "${st_leader[k]}" = 0 ]; then
    echo "no-leader"
  elif [ "${st_leader[k]}" = "${st_member[k]}" ]; then
    echo "leader"
  else
    echo "follower"
  fi
}

# The leader node K's answer names ("node3"; its id if no node has it; "-" without an answer).
leader_name() {
  local id=${st_leader[$1]:--} k
  [ "$id" != 0 ] || id=none
  if [[ $id != - && $id != none ]] && k=$(node_of_member "$id"); then id="node$k"; fi
  echo "$id"
}

# Endpoints of all nodes for etcdctl, comma separated.
all_client_eps() {
  local IFS=,
  echo "${client_ep[*]}"
}

print_endpoints() {
  local k pid leader=$1
  printf '  %-6s %-8s %-9s %-22s %-22s %s\n' node pid role "client (etcdctl)" peer metrics
  for ((k = 1; k <= nodes; k++)); do
    pid=$(node_pid "$k") || pid="-"
    printf '  %-6s %-8s %-9s %-22s %-22s %s\n' "node$k" "$pid" "$(role_of "$k")" \
      "${client_ep[k]}" "${peer_ep[k]}" "http://${metrics_ep[k]}/metrics"
  done
  echo "try:"
  echo "  ETCDCTL_API=3 etcdctl --endpoints=$(all_client_eps) put greeting hello"
  echo "  ETCDCTL_API=3 etcdctl --endpoints=${client_ep[leader]} get greeting"
  echo "  ETCDCTL_API=3 etcdctl --endpoints=$(all_client_eps) endpoint status -w table"
  echo "  curl -s http://${metrics_ep[leader]}/metrics | head"
  echo "stop: $prog down --dir $dir   (logs: $dir/nodeK.log)"
}

# The status table of all nodes (query_status must have run); fails unless all answered
# and agree on a leader.
print_status() {
  local k pid process ok=0
  printf '  %-6s %-8s %-10s %-10s %-7s %-6s %-9s %-9s %s\n' \
    node pid process role leader term commit applied client
  for ((k = 1; k <= nodes; k++)); do
    if pid=$(node_pid "$k"); then
      process=running
      ! is_stopped "$pid" || process=paused
    elif [ -f "$(pidfile_of "$k")" ]; then
      pid="-" process="dead"
    else
      pid="-" process="stopped"
    fi
    printf '  %-6s %-8s %-10s %-10s %-7s %-6s %-9s %-9s %s\n' "node$k" "$pid" "$process" \
      "$(role_of "$k")" "$(leader_name "$k")" "${st_term[k]:--}" "${st_index[k]:--}" \
      "${st_applied[k]:--}" "${client_ep[k]}"
  done
  # shellcheck disable=SC2046 # one word per node
  agreed_leader $(seq 1 "$nodes") >/dev/null || ok=1
  return $ok
}

# --- commands ------------------------------------------------------------------------------------

# Makes sure `up` on the existing cluster in DIR (loaded) starts its nodes with their configs as
# they are: options that would change them are refused rather than ignored.
check_same_settings() {
  local want_nodes=$1 want_port=$2 o ini
  ini=$(ini_of 1)
  ((!nodes_given || want_nodes == nodes)) ||
    die "$dir holds a $nodes-node cluster, not $want_nodes" \
      "(start over: $prog down --dir $dir --wipe)"
  ((!port_given || want_port == base_port)) ||
    die "$dir holds a cluster on base port $base_port, not $want_port"
  [ "$fault" = false ] || grep -qx 'fault_injection=true' "$ini" ||
    die "--fault-injection: the cluster in $dir was created without it (edit its nodeK.ini)"
  for o in "${raft_overrides[@]}"; do
    grep -qx -- "$o" "$ini" || die "--raft.$o: the cluster in $dir keeps its [raft] settings in" \
      "$dir/nodeK.ini; edit them there (or start over: $prog down --dir $dir --wipe)"
  done
}

# What `up` does in DIR: "create" (no cluster yet), "bootstrap" (configs written, but no node
# has data yet: a first start that failed) or "restart" (every node has data). Refuses a DIR
# with node files it did not write and a cluster of which only some nodes have data.
up_mode=""
choose_up_mode() {
  if [ ! -f "$(marker)" ]; then
    # Other files may share DIR (a caller's log, say), but not node files this tool did not write.
    [ -z "$(own_entries)" ] ||
      die "$dir holds node files but no $(marker); choose another --dir"
    up_mode=create
    return
  fi
  local want_nodes=$nodes want_port=$base_port k with=0
  load_cluster
  check_same_settings "$want_nodes" "$want_port"
  for ((k = 1; k <= nodes; k++)); do has_data "$k" && with=$((with + 1)); done
  if ((with == nodes)); then
    up_mode=restart
  elif ((with == 0)); then
    up_mode=bootstrap
  else
    die "only $with of $nodes nodes in $dir have data (a failed bootstrap?); start over:" \
      "$prog down --dir $dir --wipe"
  fi
}

cmd_up() {
  check_numbers
  check_tools
  local k bootstrap=0 to_start=() t0_ms note=""
  choose_up_mode
  if [ "$up_mode" = create ]; then
    resolve_bin
    check_raft_overrides
    mkdir -p "$dir"
    for ((k = 1; k <= nodes; k++)); do write_ini "$k"; done
    write_marker
  fi
  if [ "$up_mode" != restart ]; then
    bootstrap=1 note=" (bootstrap: a new cluster)"
  fi
  load_cluster
  resolve_bin
  write_marker # `down` recognizes the nodes by the name of the binary they were started with
  for ((k = 1; k <= nodes; k++)); do node_pid "$k" >/dev/null || to_start+=("$k"); done
  t0_ms=$(now_ms)
  if ((${#to_start[@]} > 0)); then
    check_ports_free "${to_start[@]}"
    for k in "${to_start[@]}"; do start_node "$k" "$bootstrap"; done
    echo "started node(s) ${to_start[*]}$note in $dir; waiting for a leader..."
  else
    echo "all $nodes nodes in $dir run already"
  fi
  # shellcheck disable=SC2046 # one word per node
  wait_for_leader $(seq 1 "$nodes") || exit 1
  echo "leader: node$leader_k (id ${st_member[leader_k]}, term ${st_term[leader_k]})," \
    "agreed on $(($(now_ms) - t0_ms)) ms after the start"
  print_endpoints "$leader_k"
}

cmd_down() {
  if [ ! -f "$(marker)" ]; then
    [ ! -e "$dir" ] && ((wipe)) && echo "nothing to do: $dir does not exist" && return
    die "no cluster in $dir"
  fi
  load_cluster
  local running
  # shellcheck disable=SC2046 # one word per node
  running=$(running_nodes $(seq 1 "$nodes"))
  [ -n "$running" ] || echo "no node of $dir is running"
  # shellcheck disable=SC2046,SC2086 # one word per node
  stop_nodes $(seq 1 "$nodes")
  ((wipe)) || return 0
  # Only what `up` created goes; DIR itself too once nothing else is left in it.
  local f
  while read -r f; do rm -rf -- "$f"; done < <(own_entries)
  if rmdir -- "$dir" 2>/dev/null; then
    echo "removed $dir"
  else
    echo "removed the cluster's files from $dir (kept: it holds other files too)"
  fi
}

cmd_status() {
  check_tools
  load_cluster
  # shellcheck disable=SC2046 # one word per node
  query_status $(seq 1 "$nodes")
  local leader
  if leader=$(self_leader); then
    echo "cluster in $dir: $nodes nodes, leader node$leader (term ${st_term[leader]})"
  else
    echo "cluster in $dir: $nodes nodes, no node answers as leader"
  fi
  print_status
}

cmd_kill_leader() {
  check_tools
  load_cluster
  local leader pid old_term survivors=() k t0_ms new
  # shellcheck disable=SC2046 # one word per node
  query_status $(running_nodes $(seq 1 "$nodes"))
  leader=$(self_leader) || die "no node answers as leader right now ($prog status --dir $dir)"
  pid=$(node_pid "$leader") || die "node$leader leads but its pid file names no live node"
  old_term=${st_term[leader]}
  t0_ms=$(now_ms)
  crash_node "$leader" "$pid"
  echo "killed leader node$leader (pid $pid, term $old_term) with SIGKILL"
  # shellcheck disable=SC2046 # one word per node
  read -r -a survivors <<<"$(running_nodes $(seq 1 "$nodes") | tr '\n' ' ')"
  ((${#survivors[@]} > nodes / 2)) ||
    die "only ${#survivors[@]} of $nodes nodes run: no majority, no new leader to wait for"
  local deadline_ms=$((t0_ms + wait_s * 1000))
  while true; do
    query_status "${survivors[@]}"
    if new=$(self_leader) && ((st_term[new] > old_term)); then
      echo "new leader: node$new (term ${st_term[new]}), seen $(($(now_ms) - t0_ms)) ms" \
        "after the kill"
      return 0
    fi
    (($(now_ms) < deadline_ms)) || die "no new leader among node(s) ${survivors[*]} after $wait_s s"
    sleep "$poll_s"
  done
}

cmd_kill() {
  load_cluster
  local k pid
  k=$(node_number)
  pid=$(node_pid "$k") || die "node$k is not running"
  crash_node "$k" "$pid"
  echo "killed node$k (pid $pid) with SIGKILL; start it again: $prog restart $k --dir $dir"
}

# SIGSTOP (pause) or SIGCONT (resume) node K, by the PID the launcher recorded.
cmd_pause_resume() {
  load_cluster
  local k pid
  k=$(node_number)
  pid=$(node_pid "$k") || die "node$k is not running"
  if [ "$1" = pause ]; then
    kill -STOP "$pid" || die "node$k (pid $pid): SIGSTOP failed"
    echo "paused node$k (pid $pid) with SIGSTOP; resume it: $prog resume $k --dir $dir"
  else
    kill -CONT "$pid" || die "node$k (pid $pid): SIGCONT failed"
    echo "resumed node$k (pid $pid) with SIGCONT"
  fi
}

cmd_restart() {
  check_tools
  load_cluster
  local k deadline_ms pid
  k=$(node_number)
  resolve_bin
  write_marker
  has_data "$k" || die "node$k has no data in $(data_of "$k"): it cannot restart (a wiped" \
    "member must not rejoin as if it had voted nothing)"
  if node_pid "$k" >/dev/null; then stop_nodes "$k"; fi
  check_ports_free "$k"
  start_node "$k" 0
  pid=$(node_pid "$k") || true
  echo "started node$k (pid ${pid:-?}); waiting until it answers..."
  deadline_ms=$(($(now_ms) + wait_s * 1000))
  while true; do
    node_pid "$k" >/dev/null || { report_exit "$k" && exit 1; }
    query_status "$k"
    [ -z "${st_member[k]:-}" ] || break
    (($(now_ms) < deadline_ms)) || die "node$k does not answer Status after $wait_s s (still runs)"
    sleep "$poll_s"
  done
  echo "node$k answers: role $(role_of "$k"), leader $(leader_name "$k"), term ${st_term[k]}," \
    "commit index ${st_index[k]}"
}

main() {
  local cmd=${1:-help}
  [ $# -eq 0 ] || shift
  case "$cmd" in
    help | -h | --help) usage && return ;;
    up | down | status | kill-leader | kill | restart | pause | resume) ;;
    *)
      echo "cluster: unknown command '$cmd' (up, down, status, kill-leader, kill, restart," \
        "pause, resume;" \
        "see $prog --help)" >&2
      exit 2 ;;
  esac
  parse_args "$cmd" "$@"
  in_range "$wait_s" 1 3600 || die "AEGIS_CLUSTER_TIMEOUT_S: expected 1..3600 s, got '$wait_s'"
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    kill-leader) cmd_kill_leader ;;
    kill) cmd_kill ;;
    restart) cmd_restart ;;
    pause | resume) cmd_pause_resume "$cmd" ;;
  esac
}

main "$@"
