// Capability separation, proven at compile time (DESIGN.md "Control plane"): no agent actor is
// handed a handle whose interface has a mutating node message.
//
// How: a trait lists every input message type of a caf::typed_actor<...> handle. Then
//  (i)   every handle type an agent actor can hold -- roles.hpp's agent_held_handles, and every
//        handle parameter or result of the agent's spawn functions, which are the only way a
//        handle reaches an agent actor -- has none of the node's mutating message types below
//        in its interface, and every type it takes is on an allowlist (the control plane's own
//        messages, plain values, and the node's telemetry scrape atom);
//  (ii)  no node interface can be stored in an agent-held handle: CAF converts typed handle
//        From to To only when To's signatures are a subset of From's (typed_actor's converting
//        constructor), and for every node interface and every agent-held type that fails;
//  (iii) the trait can fail: it flags every node interface, and a reader widened by one
//        mutating message.
// Everything is static_assert: if this file compiles, the property holds. The runtime cases
// only check that CAF's conversion rule is the one the trait mirrors.
#define BOOST_TEST_MODULE capability_test
#include <boost/test/unit_test.hpp>

#include <tuple>
#include <type_traits>
#include <variant>

#include "actors/node/messages.hpp"
#include "actors/node/telemetry_reader.hpp"
#include "control/actors/embedded.hpp"
#include "control/actors/roles.hpp"

namespace {

using caf::detail::type_list;
namespace agent = aegis::control::actors;
namespace node = aegis::node;

// ---- Type-list tools ---------------------------------------------------------------------

template <class... Lists>
struct concat;
template <>
struct concat<> {
  using type = type_list<>;
};
template <class... As>
struct concat<type_list<As...>> {
  using type = type_list<As...>;
};
template <class... As, class... Bs, class... Rest>
struct concat<type_list<As...>, type_list<Bs...>, Rest...>
    : concat<type_list<As..., Bs...>, Rest...> {};

template <class T, class List>
constexpr bool contains_v = caf::detail::tl_contains<List, T>::value;

template <class List, class Of>
struct any_of_in;
template <class... Ts, class Of>
struct any_of_in<type_list<Ts...>, Of> : std::bool_constant<(contains_v<Ts, Of> || ...)> {};

template <class List, class Of>
struct all_of_in;
template <class... Ts, class Of>
struct all_of_in<type_list<Ts...>, Of> : std::bool_constant<(contains_v<Ts, Of> && ...)> {};

// ---- The trait: every input message type of a typed handle -------------------------------

// One signature: replies_to<Is...>::with<Os...> and reacts_to<Is...> are both
// typed_mpi<type_list<Is...>, output_tuple<...>>; the inputs are Is...
template <class Signature>
struct signature_inputs;
template <class... Is, class Out>
struct signature_inputs<caf::typed_mpi<type_list<Is...>, Out>> {
  using type = type_list<std::decay_t<Is>...>;
};

template <class Handle>
struct input_types;  // only typed handles: an untyped caf::actor has no list to check
template <class... Sigs>
struct input_types<caf::typed_actor<Sigs...>> : concat<typename signature_inputs<Sigs>::type...> {};
template <class Handle>
using input_types_t = typename input_types<Handle>::type;

template <class T>
struct is_typed_handle : std::false_type {};
template <class... Sigs>
struct is_typed_handle<caf::typed_actor<Sigs...>> : std::true_type {};

// ---- The node's vocabulary, by hand (actors/node/messages.hpp) ----------------------------

// Everything that proposes, replicates, persists, applies, faults, reconfigures, drives time or
// finishes a client's call. A new mutating message must be added here; the "every node interface
// is flagged" asserts below catch an interface that would otherwise slip through.
using node_mutating = type_list<
    // atoms
    node::raft_atom, node::forward_atom, node::refuse_atom, node::propose_atom, node::persist_atom,
    node::apply_atom, node::compact_atom, node::tick_atom, node::connect_atom, node::deliver_atom,
    node::fault_atom, node::fsync_atom, node::skew_atom, node::clear_atom, node::route_atom,
    node::watch_atom, node::lease_atom, node::leader_atom, node::lock_atom, node::cancel_atom,
    // payloads
    node::reply_ptr, node::persist_job_ptr, node::apply_batch_ptr, node::local_snapshot_ptr,
    node::local_route, node::link_faults, node::watch_command, node::lease_changes_ptr,
    node::lock_call, node::lock_step, node::lock_event, node::observe_call>;

// The node's read messages: harmless by themselves, yet an agent needs none but the scrape.
using node_reading = type_list<node::read_atom, node::status_atom, node::observe_atom,
                               node::read_query, node::raft_status, node::scrape_atom>;
using node_vocabulary = concat<node_mutating, node_reading>::type;

// What an agent-held interface may take at all: the control plane's own messages, plain values,
// and the scrape.
using agent_vocabulary =
    type_list<agent::tick_atom, agent::observe_atom, agent::classify_atom, agent::advise_atom,
              agent::verify_atom, agent::propose_atom, agent::cause_atom, agent::postmortem_atom,
              agent::stats_atom, agent::sample_atom, agent::window, agent::json_list, uint64_t,
              std::string, node::scrape_atom>;

// The node's interfaces (every typed_actor alias of actors/node/).
using node_interfaces = type_list<node::consensus_actor, node::peer_inbox_actor, node::log_actor,
                                  node::state_machine_actor, node::lease_timer_actor,
                                  node::peer_link_actor, node::lock_manager_actor>;

template <class Handle>
constexpr bool mutating_v = any_of_in<input_types_t<Handle>, node_mutating>::value;

// CAF's rule for `To to = from;` (typed_actor's converting constructor and assignment): To's
// signatures must all be in From's. std::is_convertible cannot be used: CAF checks inside the
// constructor's body with a static_assert, so the constructor looks viable to every trait.
template <class To, class From>
constexpr bool caf_assignable_v =
    caf::detail::tl_subset_of<typename To::signatures, typename From::signatures>::value;

// ---- The handles agent actors hold -------------------------------------------------------

// A spawn function's parameters and result, tuples (stage_handles) unpacked.
template <class T>
struct unpack {
  using type = type_list<std::decay_t<T>>;
};
template <class... Ts>
struct unpack<std::tuple<Ts...>> : concat<typename unpack<Ts>::type...> {};
template <class... Ts>
struct unpack<std::variant<Ts...>> : concat<typename unpack<Ts>::type...> {};

template <class F>
struct spawn_types;
template <class R, class... As>
struct spawn_types<R (*)(As...)>
    : concat<typename unpack<R>::type, typename unpack<std::decay_t<As>>::type...> {};

using spawn_functions_types =
    concat<spawn_types<decltype(&agent::spawn_observer)>::type,
           spawn_types<decltype(&agent::spawn_classifier)>::type,
           spawn_types<decltype(&agent::spawn_advisor)>::type,
           spawn_types<decltype(&agent::spawn_verifier)>::type,
           spawn_types<decltype(&agent::spawn_proposer)>::type,
           spawn_types<decltype(&agent::spawn_root_cause)>::type,
           spawn_types<decltype(&agent::spawn_postmortem)>::type,
           spawn_types<decltype(&agent::spawn_agent)>::type,
           spawn_types<decltype(&agent::spawn_pipeline)>::type,
           spawn_types<decltype(&agent::spawn_embedded_agent)>::type>::type;

// Untyped handles could send anything: none may appear.
template <class T>
constexpr bool untyped_handle_v =
    std::is_same_v<T, caf::actor> || std::is_same_v<T, caf::strong_actor_ptr> ||
    std::is_same_v<T, caf::actor_addr> || std::is_same_v<T, caf::weak_actor_ptr> ||
    std::is_same_v<T, caf::scoped_actor>;

template <class T>
constexpr bool spawn_type_ok_v = !untyped_handle_v<T> && (!is_typed_handle<T>::value ||
                                                          contains_v<T, agent::agent_held_handles>);

template <class List>
struct all_spawn_types_ok;
template <class... Ts>
struct all_spawn_types_ok<type_list<Ts...>> : std::bool_constant<(spawn_type_ok_v<Ts> && ...)> {};

template <class Handle>
constexpr bool agent_handle_ok_v =
    !mutating_v<Handle> && all_of_in<input_types_t<Handle>, agent_vocabulary>::value;

template <class List>
struct all_agent_handles_ok;
template <class... Hs>
struct all_agent_handles_ok<type_list<Hs...>> : std::bool_constant<(agent_handle_ok_v<Hs> && ...)> {
};

template <class Node, class List>
struct node_fits_none;
template <class Node, class... Hs>
struct node_fits_none<Node, type_list<Hs...>>
    : std::bool_constant<(!caf_assignable_v<Hs, Node> && ...)> {};

template <class List>
struct no_node_fits;
template <class... Ns>
struct no_node_fits<type_list<Ns...>>
    : std::bool_constant<(node_fits_none<Ns, agent::agent_held_handles>::value && ...)> {};

template <class List>
struct all_mutating;
template <class... Ns>
struct all_mutating<type_list<Ns...>> : std::bool_constant<(mutating_v<Ns> && ...)> {};

// ---- (i) what agents hold ------------------------------------------------------------------

static_assert(all_spawn_types_ok<spawn_functions_types>::value,
              "a spawn function of the agent takes or returns a handle outside "
              "agent_held_handles (or an untyped one)");
static_assert(all_agent_handles_ok<agent::agent_held_handles>::value,
              "an agent-held handle has a mutating node message, or a type off the allowlist");

// The only node message any agent-held interface takes is the scrape.
template <class List>
struct node_messages_in;
template <class... Hs>
struct node_messages_in<type_list<Hs...>> {
  using all = typename concat<input_types_t<Hs>...>::type;
};
using agent_inputs = node_messages_in<agent::agent_held_handles>::all;
static_assert(contains_v<node::scrape_atom, agent_inputs>);
template <class... Ts>
constexpr bool only_scrape(type_list<Ts...>) {
  return ((!contains_v<Ts, node_vocabulary> || std::is_same_v<Ts, node::scrape_atom>)&&...);
}
static_assert(only_scrape(agent_inputs{}), "an agent-held interface takes a node message");

// The reader's whole interface: one scrape answered with text.
static_assert(std::is_same_v<node::telemetry_reader_actor::signatures,
                             type_list<caf::replies_to<node::scrape_atom>::with<std::string>>>);
static_assert(
    std::is_same_v<input_types_t<node::telemetry_reader_actor>, type_list<node::scrape_atom>>);

// The two type-ID blocks of one process do not overlap.
static_assert(caf::id_block::aegis::end <= caf::id_block::aegis_control::begin);

// ---- (ii) no node interface fits an agent-held handle ---------------------------------------

static_assert(no_node_fits<node_interfaces>::value,
              "a node interface converts to an agent-held handle type");
static_assert(!caf_assignable_v<node::telemetry_reader_actor, node::consensus_actor>);
// ... while std::is_convertible would have said yes: the reason for caf_assignable_v above.
static_assert(std::is_convertible_v<node::consensus_actor, node::telemetry_reader_actor>);

// ---- (iii) the trait can fail --------------------------------------------------------------

static_assert(all_mutating<node_interfaces>::value,
              "every node interface must be flagged as mutating");
static_assert(mutating_v<node::consensus_actor>);
using widened_reader = node::telemetry_reader_actor::extend<
    caf::reacts_to<node::propose_atom, std::string, node::reply_ptr>>;
static_assert(mutating_v<widened_reader>);
static_assert(!agent_handle_ok_v<widened_reader>);
static_assert(!spawn_type_ok_v<caf::actor>);
static_assert(!spawn_type_ok_v<node::consensus_actor>);
// The agent's own tick is not the node's: an atom is its text, so a shared text would be caught.
static_assert(!std::is_same_v<agent::tick_atom, node::tick_atom>);

}  // namespace

// CAF's conversion rule, as caf_assignable_v mirrors it: a wider interface narrows to the
// reader (this compiles), and the reverse is what the static_asserts above rule out.
BOOST_AUTO_TEST_CASE(caf_narrows_only_to_a_subset) {
  static_assert(caf_assignable_v<node::telemetry_reader_actor, widened_reader>);
  static_assert(!caf_assignable_v<widened_reader, node::telemetry_reader_actor>);
  widened_reader wide;
  node::telemetry_reader_actor narrow = wide;  // compiles: reader's signatures ⊆ wide's
  BOOST_TEST(!narrow);
}

BOOST_AUTO_TEST_CASE(agent_holds_nine_handle_types) {
  BOOST_TEST(caf::detail::tl_size<agent::agent_held_handles>::value == 9u);
}
