// Always-on assertions for programmer errors (never for bad input: that is refused with an
// error). They stay on in release builds because a broken Raft invariant must stop the process,
// not corrupt a cluster quietly.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace aegis {
// Called once before an assertion aborts: a host names what it was doing (the simulator prints
// the command that replays the failing seed). Plain function pointer: no allocation on the way
// down.
inline void (*assert_context)() = nullptr;

[[noreturn]] inline void assertion_failed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, cond);
  if (assert_context) assert_context();
  std::abort();
}
}  // namespace aegis

#define AEGIS_ASSERT(cond)                                             \
  do {                                                                 \
    if (!(cond)) ::aegis::assertion_failed(__FILE__, __LINE__, #cond); \
  } while (0)
