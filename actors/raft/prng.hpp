// A small seeded pseudo-random generator (xoshiro256**, seeded through splitmix64).
// Deterministic by construction: the same seed gives the same sequence on every platform, which
// is what makes simulator runs replayable. Never seeded from the clock inside the core: the host
// hands the seed in and logs it.
#pragma once

#include <cstdint>

namespace aegis::raft {

class prng {
 public:
  explicit prng(uint64_t seed) {
    for (auto& s : s_)
      s = splitmix(seed);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [lo, hi). Requires lo < hi. The modulo bias is < 2^-40 for our ranges.
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + next() % (hi - lo); }

  // Uniform in [0, 1).
  double unit() { return double(next() >> 11) * 0x1.0p-53; }

  // True with probability p (0..1).
  bool chance(double p) { return unit() < p; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

}  // namespace aegis::raft
