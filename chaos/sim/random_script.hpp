// Random chaos scripts for the seed sweep: a cluster, an aggressive config (small snapshot
// thresholds, small chunks, tight windows: the paths where bugs hide) and a fault every one to
// three seconds, all drawn from the seed. `aegis-sim random --seed S` prints the script, so a
// failing seed can be kept as a plain chaos script.
#pragma once

#include <cstdint>

#include "chaos/script.hpp"

namespace aegis::chaos::sim {

script random_script(uint64_t seed, int64_t duration_us = 12'000'000);

}  // namespace aegis::chaos::sim
