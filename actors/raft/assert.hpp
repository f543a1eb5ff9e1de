// Always-on assertions for programmer errors (never for bad input: that is refused with an
// error). They stay on in release builds because a broken Raft invariant must stop the process,
// not corrupt a cluster quietly.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AEGIS_ASSERT(cond)                                                              \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
