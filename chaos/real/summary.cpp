// See summary.hpp.
#include "chaos/real/summary.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "chaos/real/sampler.hpp"

namespace aegis::chaos::real {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Whether one sample round (every node's sample at one time) had a working leader.
bool round_available(const std::vector<const trace::metric_sample*>& round, uint32_t nodes) {
  std::vector<uint64_t> leader_terms;
  for (const auto* s : round)
    if (s->up && role_of(s->values).first == "leader")
      leader_terms.push_back(role_of(s->values).second);
  if (leader_terms.size() != 1) return false;
  uint32_t agree = 0;
  for (const auto* s : round) {
    if (!s->up) continue;
    const auto [role, term] = role_of(s->values);
    agree += role != "candidate" && term == leader_terms[0];
  }
  return agree > nodes / 2;
}

std::string verdict(const run_facts& f) {
  if (!f.load) return "n/a";
  if (f.history_truncated) return "not-checked";
  switch (f.lin.verdict) {
    case lin_verdict::linearizable:
      return "yes";
    case lin_verdict::not_linearizable:
      return "no";
    case lin_verdict::gave_up:
      return "gave-up";
  }
  return "?";
}

// p-th percentile (0..1) of the ok operations' latency, in ms.
double latency_ms(const history& h, double p) {
  std::vector<int64_t> us;
  for (const auto& op : h)
    if (op.status == op_status::ok) us.push_back(op.return_us - op.invoke_us);
  if (us.empty()) return 0;
  std::sort(us.begin(), us.end());
  const auto i = static_cast<size_t>(p * static_cast<double>(us.size() - 1) + 0.5);
  return static_cast<double>(us[std::min(i, us.size() - 1)]) / 1000.0;
}

}  // namespace

double availability(const std::vector<trace::metric_sample>& samples, uint32_t nodes) {
  std::map<int64_t, std::vector<const trace::metric_sample*>> rounds;
  for (const auto& s : samples)
    rounds[s.at_us].push_back(&s);
  if (rounds.empty()) return 0;
  size_t good = 0;
  for (const auto& [at, round] : rounds)
    good += round_available(round, nodes);
  return static_cast<double>(good) / static_cast<double>(rounds.size());
}

uint32_t leader_changes(const std::vector<trace::role_event>& roles) {
  std::set<uint64_t> terms;
  for (const auto& r : roles)
    if (r.role == "leader") terms.insert(r.term);
  return terms.empty() ? 0 : static_cast<uint32_t>(terms.size() - 1);
}

std::vector<std::pair<std::string, std::string>> summarize(const trace::trace& t,
                                                           const run_facts& f) {
  uint64_t ok = 0, fail = 0, unknown = 0;
  for (const auto& op : t.ops) {
    ok += op.status == op_status::ok;
    fail += op.status == op_status::fail;
    unknown += op.status == op_status::unknown;
  }
  std::vector<std::pair<std::string, std::string>> out = {
      {"availability", fixed(availability(t.metrics, t.nodes), 3)},
      {"leader_changes", std::to_string(leader_changes(t.roles))},
      {"ops_ok", std::to_string(ok)},
      {"ops_fail", std::to_string(fail)},
      {"ops_unknown", std::to_string(unknown)},
      {"op_p50_ms", fixed(latency_ms(t.ops, 0.50), 2)},
      {"op_p99_ms", fixed(latency_ms(t.ops, 0.99), 2)},
      {"linearizable", verdict(f)},
  };
  if (f.leases) {
    out.emplace_back("leases_lost", std::to_string(f.lease.leases_lost));
    out.emplace_back("lease_keepalive_failures", std::to_string(f.lease.keepalive_failures));
    out.emplace_back("lease_grants", std::to_string(f.lease.grants));
  }
  out.emplace_back("faults_fired", std::to_string(f.faults_fired));
  out.emplace_back("faults_skipped", std::to_string(f.faults_skipped));
  if (f.samples_dropped > 0) out.emplace_back("samples_dropped", std::to_string(f.samples_dropped));
  out.emplace_back("ran_ms", std::to_string(f.ran_us / 1000));
  out.emplace_back("interrupted", f.interrupted ? "yes" : "no");
  return out;
}

}  // namespace aegis::chaos::real
