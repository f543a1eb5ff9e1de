// Advice for the classes whose cure is about the log and the leader's queues: a slow follower
// (keep enough log to catch it up without a snapshot) and overload (refuse excess work early).
#include <algorithm>
#include <cmath>

#include "control/advisor/advice_parts.hpp"

namespace aegis::control::advisor_detail {

namespace {

// Entries a follower may fall behind and still catch up from the log: 1.5x the worst lag seen
// (it kept growing until the follower came back), at least 2x the entries written during one
// snapshot send (the envelope's catchup_covers_snapshot_send), and more than today.
uint64_t wanted_catchup(const advice_input& in) {
  const uint64_t cur = in.current.snapshot_catchup_entries;
  uint64_t want = 2 * std::max<uint64_t>(cur, 1);
  if (auto lag = max_evidence(in.v, "match_lag"))
    want = std::max(want, uint64_t(std::ceil(std::min(*lag, 1e15) * 1.5)));
  const auto& f = in.facts;
  if (f.snapshot_send_ms && f.write_rate_per_s)
    want = std::max(want, 2 * ((uint64_t(*f.write_rate_per_s) * *f.snapshot_send_ms + 999) / 1000));
  return round_up(want, 10);
}

}  // namespace

advice slow_follower(const advice_input& in) {
  const auto& cur = in.current;
  const uint64_t want = wanted_catchup(in);
  // One bounded step; a zero catch-up cannot be scaled, so it goes to the wanted value (and the
  // envelope hands that to a person).
  const uint64_t step_cap = uint64_t(cur.snapshot_catchup_entries) * config::kMaxStepFactor;
  const uint64_t catchup = step_cap == 0 ? want : std::min(want, step_cap);
  advice a;
  set_key(a.patch, cur, "snapshot_catchup_entries", catchup);
  set_key(a.patch, cur, "snapshot_threshold_entries",
          std::max<uint64_t>(cur.snapshot_threshold_entries, catchup));
  a.rationale = "A follower fell behind (" + nodes_text(in.v) +
                ") and the leader had already "
                "compacted the entries it needed, so it was sent a whole snapshot: slow, heavy, "
                "and the follower is useless until it lands. Keeping more entries behind each "
                "snapshot (" +
                std::to_string(cur.snapshot_catchup_entries) + " -> " + std::to_string(catchup) +
                ") lets a briefly slow follower catch up from the log.";
  a.expected_effect =
      "Fewer snapshots installed after short stalls; followers rejoin sooner. The "
      "leader keeps " +
      std::to_string(catchup) +
      " entries behind each snapshot "
      "instead of " +
      std::to_string(cur.snapshot_catchup_entries) + " (memory and disk).";
  a.target_metric = "snapshots_installed";
  a.recommendation = "Find out why " + nodes_text(in.v) +
                     " stalled (GC or swap, CPU steal, a slow disk, a SIGSTOPped process).";
  if (want > catchup)
    a.recommendation += " The lag seen calls for about " + std::to_string(want) +
                        " entries; this proposal goes one bounded step (" +
                        std::to_string(config::kMaxStepFactor) +
                        "x). Verify it, then raise further or have a person do it.";
  return a;
}

advice overload(const advice_input& in) {
  const auto& cur = in.current;
  advice a;
  if (cur.max_uncommitted_bytes != 0)
    set_key(a.patch, cur, "max_uncommitted_bytes",
            std::max<uint64_t>(cur.max_uncommitted_bytes / config::kMaxStepFactor,
                               cur.max_proposal_bytes));
  set_key(a.patch, cur, "max_pending_reads",
          std::max<uint64_t>(cur.max_pending_reads / config::kMaxStepFactor,
                             std::min<uint64_t>(cur.max_pending_reads, 64)));
  const auto pending = max_evidence(in.v, "pending");
  a.rationale = "Proposals arrive faster than the log can commit them" +
                (pending ? " (" + std::to_string(uint64_t(*pending)) + " pending at the leader)"
                         : std::string()) +
                ". The leader queues them all, so every client waits behind the backlog and "
                "many time out with an unknown outcome. Smaller budgets for uncommitted bytes and "
                "waiting reads make the leader refuse excess work at once: clients get a fast, "
                "retryable refusal and the admitted work keeps a bounded latency.";
  a.expected_effect =
      "Lower commit p99 for admitted proposals; more operations refused quickly "
      "and fewer timing out. Throughput does not rise: the disk sets it.";
  a.target_metric = "commit_p99_ms";
  a.recommendation =
      "The disk (fsync time per batch) or the write rate is the limit: move the "
      "log to a faster disk, rate-limit or batch the heaviest clients, and make "
      "clients back off on refusals.";
  if (cur.max_uncommitted_bytes == 0)
    a.recommendation +=
        " max_uncommitted_bytes is 0 (no limit): setting one is a decision for a "
        "person, so it is not in this patch.";
  return a;
}

}  // namespace aegis::control::advisor_detail
