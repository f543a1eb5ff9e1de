#include "actors/node/log_actor.hpp"

#include <chrono>
#include <thread>

#include "protocol/raft_codec.hpp"

namespace aegis::node {

namespace {

struct log_state {
  std::shared_ptr<persistence::rocks_storage> storage;
  uint32_t extra_fsync_ms = 0;  // fault hook: slow disk
};

using log_pointer = log_actor::stateful_pointer<log_state>;

persist_job_ptr persist(log_state& st, persist_job_ptr job) {
  const auto start = std::chrono::steady_clock::now();
  persist_now(*st.storage, *job);
  if (st.extra_fsync_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(st.extra_fsync_ms));
  job->fsync_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return job;
}

log_actor::behavior_type log_behavior(log_pointer self,
                                      std::shared_ptr<persistence::rocks_storage> storage) {
  self->state.storage = std::move(storage);
  return {
      [=](persist_atom, persist_job_ptr& job) {
        persist(self->state, job);
        for (const auto& m : std::move(job->rd.messages).open(*job->receipt))
          if (auto d = job->destinations.find(m.to); d != job->destinations.end())
            caf::anon_send(d->second, raft_atom::value, protocol::encode(m));
        return job;
      },
      [=](fsync_atom, uint32_t extra_ms) { self->state.extra_fsync_ms = extra_ms; },
  };
}

}  // namespace

void persist_now(persistence::rocks_storage& storage, persist_job& job) {
  storage.write(std::move(job.rd.persist));  // even empty: it advances the write seq
  job.receipt = storage.sync();
}

log_actor spawn_log(caf::actor_system& sys, std::shared_ptr<persistence::rocks_storage> storage) {
  // Detached: fsync blocks, and it must not block a scheduler thread on a 2-core machine.
  return sys.spawn<caf::detached>(log_behavior, std::move(storage));
}

}  // namespace aegis::node
