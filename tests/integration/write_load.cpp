// See write_load.hpp.
#include "tests/integration/write_load.hpp"

namespace aegis::it {

namespace {
constexpr auto put_deadline = 2s;
constexpr auto retry_pause = 10ms;  // after a failed put, so a dead node is not hammered
}  // namespace

write_load::write_load(cluster& c, std::string prefix, int threads, std::function<int(int)> target)
    : cluster_(c), prefix_(std::move(prefix)), target_(std::move(target)), acked_(threads) {
  for (int t = 0; t < threads; ++t)
    threads_.emplace_back([this, t] { run(t); });
}

write_load::~write_load() {
  stop();
}

void write_load::stop() {
  stopping_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void write_load::run(int thread) {
  for (uint64_t seq = 0; !stopping_; ++seq) {
    acked_write w{prefix_ + "/" + std::to_string(thread) + "/" + std::to_string(seq),
                  "value-" + std::to_string(thread) + "-" + std::to_string(seq)};
    const auto st = cluster_.put(target_(thread), w.key, w.value, steady::now() + put_deadline);
    if (st.ok()) {
      std::lock_guard lock(mu_);
      acked_[thread].push_back(std::move(w));
      ++acked_count_;
    } else {
      ++failed_count_;
      std::this_thread::sleep_for(retry_pause);
    }
  }
}

std::vector<acked_write> write_load::acked_by(int thread) const {
  std::lock_guard lock(mu_);
  return acked_.at(thread);
}

std::vector<acked_write> write_load::all_acked() const {
  std::lock_guard lock(mu_);
  std::vector<acked_write> all;
  for (const auto& v : acked_)
    all.insert(all.end(), v.begin(), v.end());
  return all;
}

}  // namespace aegis::it
