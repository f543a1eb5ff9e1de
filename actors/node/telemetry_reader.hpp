// The node's read-only telemetry interface: one message, a scrape, answered with the text
// exposition of the node's Prometheus registry (what GET /metrics would return). This is the only
// handle an agent embedded in a node process is given (control/actors/, DESIGN.md "Control
// plane"): it cannot propose, fault or reconfigure anything because its interface has no message
// that does, and CAF refuses at compile time to convert a handle to a wider one.
//
// Deliberately free of the node's other headers: the control plane includes this one and nothing
// else from actors/, so it cannot even name the mutating interfaces.
#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

namespace aegis::node {
struct node_metrics;
}  // namespace aegis::node

// An atom takes no type ID in CAF 0.17 (its text is its identity), so it needs no block entry;
// the text must differ from every other atom's, or the two would be the same type.
CAF_ADD_ATOM(aegis, aegis::node, scrape_atom, "tscrape")

namespace aegis::node {

// Answers a scrape with the exposition text (Prometheus text format 0.0.4).
using telemetry_reader_actor = caf::typed_actor<caf::replies_to<scrape_atom>::with<std::string>>;

// The registry's (and, when the node serves /metrics, the process collector's) families as
// text. Plain code: the actor below only calls it.
std::string exposition_text(const node_metrics& m);

// Spawns the reader; it holds the metrics (shared with the node's actors) and nothing else.
telemetry_reader_actor spawn_telemetry_reader(caf::actor_system& sys,
                                              std::shared_ptr<const node_metrics> metrics);

}  // namespace aegis::node
