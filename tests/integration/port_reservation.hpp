// Ports for test clusters that cannot collide with another test process on this machine: each
// port is locked (exclusive flock on /tmp/aegis-port-locks/PORT) for the life of the process that
// reserved it, and a bind on 127.0.0.1 proves nobody outside the lock protocol holds it. Ports
// come from 20000-32000, below Linux's ephemeral range (32768+), so outgoing connections never
// take one by chance.
#pragma once

#include <cstdint>

namespace aegis::it {

// A free, locked port; throws std::runtime_error when none can be found.
uint16_t reserve_port();

}  // namespace aegis::it
