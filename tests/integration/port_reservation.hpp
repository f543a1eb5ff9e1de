// Ports for test clusters that cannot collide with another test process on this machine: each
// port is locked (exclusive flock on /tmp/aegis-port-locks/PORT) for the life of the process that
// reserved it, and a bind on 127.0.0.1 proves nobody outside the lock protocol holds it. Ports
// come from 20000-32000, below Linux's ephemeral range (32768+), so outgoing connections never
// take one by chance.
#pragma once

#include <cstdint>
#include <vector>

namespace aegis::it {

// A free, locked port; throws std::runtime_error when none can be found.
uint16_t reserve_port();

// A base port P such that P + o is free and locked for every offset o (a launcher that derives
// its ports from one base, like config/cluster.sh: P+K, P+100+K, P+200+K); throws
// std::runtime_error when no such P can be found.
uint16_t reserve_port_block(const std::vector<uint16_t>& offsets);

}  // namespace aegis::it
