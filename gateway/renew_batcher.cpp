#include "gateway/renew_batcher.hpp"

namespace aegis::gateway {

void renew_batcher::renew(int64_t id, done_fn done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_.push_back({id, std::move(done)});
  }
  flush();
}

void renew_batcher::flush() {
  for (;;) {
    std::vector<waiting> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queued_.empty() || in_flight_ >= max_in_flight_) return;
      const size_t n = std::min(queued_.size(), max_batch_);
      batch.assign(std::make_move_iterator(queued_.begin()),
                   std::make_move_iterator(queued_.begin() + static_cast<ptrdiff_t>(n)));
      queued_.erase(queued_.begin(), queued_.begin() + static_cast<ptrdiff_t>(n));
      ++in_flight_;
    }
    aegis::smpb::Command cmd;
    for (const auto& w : batch)
      cmd.mutable_lease_renew()->add_ids(w.id);
    auto self = shared_from_this();
    auto shared = std::make_shared<std::vector<waiting>>(std::move(batch));
    auto reply = std::make_shared<node::reply_slot>(
        [self, shared](node::call_result r) { self->finished(std::move(*shared), r); });
    caf::anon_send(consensus_, node::propose_atom::value, cmd.SerializeAsString(),
                   std::move(reply));
  }
}

void renew_batcher::finished(std::vector<waiting> batch, const node::call_result& r) {
  aegis::smpb::LeaseRenewResponse renewed;
  const bool ok = r.code == node::call_code::ok && renewed.ParseFromString(r.response) &&
                  renewed.ttls_size() == static_cast<int>(batch.size());
  const node::call_result why =
      ok || r.code != node::call_code::ok
          ? r
          : node::call_result::error(node::call_code::internal, "aegis: malformed renewal");
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i].done(why, ok ? renewed.ttls(static_cast<int>(i)) : 0, renewed.header());
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
  }
  flush();
}

}  // namespace aegis::gateway
