// Simulator speed: simulated seconds per wall second for a 5-node cluster under 200 client ops/s
// with a fault every 2 s, on one core (this process is single-threaded). Target: >= 1,000x real
// time, so the verifier can replay a 60 s incident under two configs in well under a second.
// Also prints the seed sweep's seeds/s. Medians over several runs: the machine is shared.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <vector>

#include "chaos/sim/random_script.hpp"
#include "chaos/sim/simulator.hpp"

using namespace aegis;
using namespace aegis::chaos;

namespace {

// A fault every 2 s, cycling through the kinds an incident replay meets.
script bench_script() {
  auto parsed = parse_script(R"(
nodes 5
duration 60s
network latency 1ms..5ms
fsync 1ms
load clients 4 rate 200/s keys 8 mix put=40 get=40 cas=20 timeout 2s
)",
                             "<bench>");
  script s = std::get<script>(std::move(parsed));
  s.name = "bench: 5 nodes, 200 ops/s, a fault every 2 s";
  for (int64_t t = 2; t < 60; t += 2) {
    fault f;
    f.at_us = t * 1'000'000;
    f.for_us = 1'000'000;
    switch ((t / 2) % 5) {
      case 0:
        f.kind = fault_kind::kill;
        f.target.k = node_ref::kind::follower;
        break;
      case 1:
        f.kind = fault_kind::partition;
        f.groups = {{1, 2}, {3, 4, 5}};
        break;
      case 2:
        f.kind = fault_kind::delay;
        f.amount_us = 20'000;
        f.jitter_us = 10'000;
        break;
      case 3:
        f.kind = fault_kind::slow_fsync;
        f.target.k = node_ref::kind::leader;
        f.amount_us = 100'000;
        break;
      default:
        f.kind = fault_kind::drop;
        f.percent = 20;
        break;
    }
    s.faults.push_back(f);
  }
  return s;
}

// CPU time of this (single-threaded) process: steadier than wall time on a shared machine.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void measure(const script& s, bool checks, int runs) {
  std::vector<double> ratios;
  sim::run_summary last;
  for (int i = 0; i < runs; ++i) {
    sim::sim_options opt;
    opt.seed = uint64_t(i + 1);
    opt.check_invariants = checks;
    opt.check_linearizability = checks;
    const double t0 = cpu_seconds();
    last = sim::simulate(s, config::raft_config{}, opt);
    ratios.push_back(double(s.duration_us) / 1e6 / (cpu_seconds() - t0));
  }
  std::printf(
      "  %-34s median %7.0fx real time  (min %.0fx, max %.0fx, %d runs of CPU time; %llu events, "
      "%llu ops/run)\n",
      checks ? "with invariants + linearizability" : "metrics only (verifier mode)", median(ratios),
      *std::min_element(ratios.begin(), ratios.end()),
      *std::max_element(ratios.begin(), ratios.end()), runs, (unsigned long long)last.events,
      (unsigned long long)(last.ops_ok + last.ops_fail + last.ops_unknown));
}

void sweep_rate(uint64_t seeds) {
  const double t0 = cpu_seconds();
  uint64_t passed = 0;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    script s = sim::random_script(seed);
    auto cfg = sim::config_for(s);
    sim::sim_options opt;
    opt.seed = seed;
    passed += sim::simulate(s, std::get<config::raft_config>(cfg), opt).passed();
  }
  const double secs = cpu_seconds() - t0;
  std::printf("  seed sweep (random 12 s scripts)   %.1f seeds/s (%llu/%llu passed)\n",
              double(seeds) / secs, (unsigned long long)passed, (unsigned long long)seeds);
}

}  // namespace

int main(int argc, char** argv) {
  const script s = bench_script();
  if (argc > 1 && std::string_view(argv[1]) == "--script") {  // the workload as a chaos script
    std::fputs(format_script(s).c_str(), stdout);
    return 0;
  }
  std::printf("simulator speed, %s (one core)\n", s.name.c_str());
  measure(s, true, 9);
  measure(s, false, 9);
  sweep_rate(200);
  return 0;
}
