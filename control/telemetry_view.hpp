// A read-only view of a window of telemetry: every node's metric samples (from a trace or from
// the observer's scrapes) arranged for questions the classifier asks -- a series over time, the
// increase of a counter across restarts, who led when, which peers a node reports on.
//
// Samples are the trace's (chaos/trace.hpp): series keys as Prometheus prints them without the
// node label, e.g. `aegis_raft_follower_match_lag{peer="2"}`. A failed scrape (up=false) is a
// gap: series skip it; up_share() counts it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chaos/trace.hpp"

namespace aegis::control {

struct point {
  int64_t at_us = 0;
  double value = 0;
};

class telemetry_view {
 public:
  // `samples` in time order (any node interleaving); `config` is the cluster's Raft config as
  // key=value pairs (a trace's `config` lines), possibly empty.
  telemetry_view(std::vector<chaos::trace::metric_sample> samples,
                 std::vector<std::pair<std::string, std::string>> config = {});

  const std::vector<uint32_t>& nodes() const { return nodes_; }
  int64_t from_us() const { return from_us_; }
  int64_t to_us() const { return to_us_; }
  int64_t span_us() const { return to_us_ - from_us_; }
  // The sample times shared by all nodes (every scrape round), in order.
  const std::vector<int64_t>& rounds() const { return rounds_; }

  // The node's value of `key` at each answered scrape that had it.
  std::vector<point> series(uint32_t node, std::string_view key) const;
  // The value at round time t (nullopt: no answer or no such series then).
  std::optional<double> at(uint32_t node, std::string_view key, int64_t t) const;
  // How much a counter grew over [from, to], summing only increases, so a restart (the counter
  // dropping to 0) does not count as a decrease.
  double increase(uint32_t node, std::string_view key, int64_t from_us, int64_t to_us) const;
  // Whether one of the node's counters went down: its process restarted within the window.
  bool restarted(uint32_t node) const;
  // Share of the node's scrapes that answered.
  double up_share(uint32_t node) const;
  bool up_at(uint32_t node, int64_t t) const;
  // Peers a node reports a per-peer family for: keys `family{peer="X"}`.
  std::vector<uint32_t> peers(uint32_t node, std::string_view family) const;

  // The leader at each round: the answering node with aegis_raft_is_leader=1 and the highest
  // term (0: none). Paired with that term.
  struct leadership {
    int64_t at_us = 0;
    uint32_t leader = 0;
    double term = 0;
  };
  const std::vector<leadership>& leaders() const { return leaders_; }

  std::optional<std::string> config(std::string_view key) const;
  std::optional<double> config_number(std::string_view key) const;

 private:
  const chaos::trace::metric_sample* sample(uint32_t node, int64_t t) const;

  std::map<uint32_t, std::vector<chaos::trace::metric_sample>> by_node_;
  std::vector<uint32_t> nodes_;
  std::vector<int64_t> rounds_;
  std::vector<leadership> leaders_;
  std::vector<std::pair<std::string, std::string>> config_;
  int64_t from_us_ = 0, to_us_ = 0;
};

// The family of a per-peer key, and the peer: `x{peer="3"}` -> ("x", 3).
std::optional<std::pair<std::string, uint32_t>> split_peer_key(std::string_view key);
std::string peer_key(std::string_view family, uint32_t peer);

}  // namespace aegis::control
