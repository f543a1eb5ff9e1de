// Envelope rules about time-bounded promises: lease-based reads, and the lease TTL floor the
// node derives from the election timeout (min_lease_ttl_ms).
#include "config/envelope_rules.hpp"

namespace aegis::config::envelope_detail {

namespace {

rule_outcome lease_reads_guarded(const rule_input& in) {
  if (!in.facts.lease_reads_requested) return {true, "lease-based reads not requested (ReadIndex)"};
  const auto& c = in.proposed;
  if (!c.check_quorum) return {false, "lease reads requested with check_quorum = false"};
  if (!in.facts.clock_drift_bound_ms)
    return {false, "lease reads requested without an observed clock-drift bound"};
  const uint32_t drift = *in.facts.clock_drift_bound_ms;
  return {drift < c.election_timeout_ms_min,
          "clock drift " + ms(drift) + " < " + ms(c.election_timeout_ms_min) + " (timeout min)"};
}

rule_outcome lease_ttl_above_election(const rule_input& in) {
  const uint64_t ttl = min_lease_ttl_ms(in.proposed);
  const uint64_t drift = in.facts.clock_drift_bound_ms.value_or(0);
  const uint64_t need = uint64_t(in.proposed.election_timeout_ms_max) + drift;
  return {ttl >= need, "min lease TTL " + ms(ttl) + " >= " +
                           ms(in.proposed.election_timeout_ms_max) + " + drift " + ms(drift)};
}

rule_outcome lease_ttl_bounded(const rule_input& in) {
  const uint64_t ttl = min_lease_ttl_ms(in.proposed);
  return {ttl <= kMaxLeaseTtlFloorMs,
          "min lease TTL " + ms(ttl) + " <= " + ms(kMaxLeaseTtlFloorMs)};
}

}  // namespace

std::vector<rule_def> lease_rules() {
  return {
      {{"lease_reads_guarded",
        "A leader serving reads from its lease is only right while no other leader can exist: "
        "that needs check-quorum and clocks that drift less than an election timeout.",
        "lease reads only with check_quorum and clock drift bound < election_timeout_ms_min"},
       lease_reads_guarded},
      {{"lease_ttl_above_election",
        "A lease must outlive a leader change plus the clocks' disagreement, or keep-alives "
        "lost during the election expire healthy sessions.",
        "ceil(1.5 x election_timeout_ms_max) in whole s >= election_timeout_ms_max + drift"},
       lease_ttl_above_election},
      {{"lease_ttl_bounded",
        "The TTL floor grows with the election timeout; past a minute a crashed client holds "
        "its locks for minutes and short TTLs asked for are silently lengthened.",
        "min lease TTL <= 60 s"},
       lease_ttl_bounded},
  };
}

}  // namespace aegis::config::envelope_detail
