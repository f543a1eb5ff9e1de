#!/usr/bin/env bash
# control/demo.sh: the main job, `./aegis demo` (the aegis script builds first, then execs this).
#
#   1. a 5-node AEGIS cluster on this machine, its timeouts tuned for a LAN;
#   2. a chaos script that turns its links into a WAN and kills the leader: a real election storm,
#      under client load, recorded as a trace -- while the agent (aegis-agent) watches the live
#      /metrics endpoints;
#   3. the classifier's verdicts (live and from the trace), the advisor's patch, the safety
#      envelope's checks and the verifier's before/after table from the simulator;
#   4. the pull request and the postmortem, written in dry-run into one folder; the ledger.
# Nothing is applied to the cluster: the proposal is a file for a human to review.
#
# usage: control/demo.sh [OUT_DIR]      (default: demo-out/<UTC time>)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${AEGIS_BUILD_DIR:-$root/build}"
out="${1:-$root/demo-out/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cluster="$out/cluster"
script="$root/chaos/scripts/wan_storm.chaos"
nodes=5
live_pid=""

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# A base port whose peer, client and metrics ports (P+K, P+100+K, P+200+K) are all free.
free_base_port() {
  local base used k
  used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
  for base in $(seq 24000 300 33000); do
    local clash=0
    for k in $(seq 1 $nodes); do
      for p in $((base + k)) $((base + 100 + k)) $((base + 200 + k)); do
        grep -qx "$p" <<<"$used" && clash=1
      done
    done
    [ $clash -eq 0 ] && echo "$base" && return 0
  done
  echo "demo: no free port range between 24000 and 33000" >&2
  return 1
}

cleanup() {
  [ -n "$live_pid" ] && kill "$live_pid" 2>/dev/null || true
  if [ -f "$cluster/.aegis-cluster" ]; then
    AEGIS_CLUSTER_PROG="demo" "$root/config/cluster.sh" down --dir "$cluster" >/dev/null 2>&1 || true
    rm -rf "$cluster"/node*/data  # keep the configs and logs, drop the data
  fi
}
trap cleanup EXIT INT TERM

base=$(free_base_port)

say "1. a 5-node cluster, timeouts tuned for a LAN (heartbeat 50 ms, election 300..600 ms)"
"$root/config/cluster.sh" up --nodes $nodes --fault-injection --dir "$cluster" --base-port "$base" \
  --bin "$build/actors/aegis-node" --raft.heartbeat_interval_ms=50 \
  --raft.election_timeout_ms_min=300 --raft.election_timeout_ms_max=600 | sed 's/^/   /'

say "2. the incident: $(basename "$script") (links become a WAN, the leader dies), under load"
grep '^#' "$script" | sed 's/^# */   /'
# The agent (its typed actors: observer, classifier, advisor, verifier, proposer, postmortem)
# watches the live /metrics endpoints meanwhile, one 19 s cycle, in dry-run.
"$build/control/aegis-agent" --cluster-dir "$cluster" --window-s 19 --cycles 1 \
  --out "$out/agent" --scripts-dir "$root/chaos/scripts" >"$out/agent.log" 2>&1 &
live_pid=$!
"$build/chaos/aegis-chaos" run "$script" --dir "$cluster" --trace "$out/incident.trace" |
  sed 's/^/   /'
wait "$live_pid" || echo "   (the agent failed: $out/agent.log)"
live_pid=""

say "3. what the agent saw live (from /metrics), and the classifier on the recorded trace"
sed 's/^/   agent: /' "$out/agent.log"
echo "   (live, the agent has no recording of the incident, so its verifier replays the class's"
echo "    fixture script, chaos/scripts/fixtures/<class>.chaos; a patch that does not help there is"
echo "    kept as a negative result. The recorded trace's own replay follows.)"
"$build/control/aegis-classifier" --once --trace "$out/incident.trace" >"$out/verdicts.json"
jq -r '.verdicts[] | "   trace: \(.class) (confidence \(.confidence*100|floor)%): \(.summary)",
       (.evidence[] | "            evidence: \(.metric) = \(.value*1000|round/1000) (\(.op) \(.threshold))")' \
  "$out/verdicts.json"

say "4. advisor -> safety envelope -> verifier (simulator, current vs proposed) -> proposer"
# The operators' config repository: the cluster's shared [raft] settings (the launcher puts them
# in every node's file), in git. The proposer commits its patch on a branch there and writes the
# pull request beside it; with no GitHub repository configured nothing leaves this machine.
repo="$out/config-repo"
mkdir -p "$repo"
{
  echo "; the Raft settings every node of the demo cluster runs (./aegis cluster --raft.KEY=VALUE)"
  sed -n '/^\[raft\]/,$p' "$cluster/node1.ini"
} >"$repo/raft.ini"
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=operator -c user.email=operator@localhost add raft.ini
git -C "$repo" -c user.name=operator -c user.email=operator@localhost commit -q -m "demo cluster"
"$build/control/aegis-proposer" --out "$out" --ledger "$out/ledger.jsonl" --config-repo "$repo" \
  --config-file raft.ini --postmortem "$out/incident.trace" <"$out/verdicts.json" \
  >"$out/proposer.log"
# What the ledger kept: every proposal, proposed or not, with why.
jq -r '"   ledger: \(.class) -> \(.status) (\(.id)): \(.explanation // .rationale // "" | .[0:110])"' \
  "$out/ledger.jsonl"
for pr in "$out"/proposals/*.md; do
  [ -f "$pr" ] || continue
  # The envelope and the verifier sections of the pull request, as a reviewer reads them.
  echo
  echo "   --- $(head -1 "$pr" | sed 's/^# //')"
  awk '/^## (Patch|Safety envelope|Verification|Verifier)/{show=1} /^## (Rationale|Rollback)/{show=0}
       show && !/^\| `/ {print "   " $0}' "$pr"
done

echo
echo "   the config repository (branches are proposals; main is what runs):"
git -C "$repo" log --all --oneline --decorate | sed 's/^/     /'

say "where to look"
echo "   pull request(s):  $(ls "$out"/proposals/*.md 2>/dev/null | tr '\n' ' ')"
echo "   postmortem:       $(ls "$out"/postmortems/*.md 2>/dev/null | tr '\n' ' ')"
echo "   config repo:      $repo (git -C $repo diff main aegis/...)"
echo "   ledger:           $out/ledger.jsonl"
echo "   trace:            $out/incident.trace (chaos/TRACE-FORMAT.md)"
echo "   verdicts:         $out/verdicts.json (trace); the live agent's files: $out/agent/"
echo "   cluster logs:     $cluster/node*.log"
echo "   nothing was applied: a human reviews and merges the pull request."
