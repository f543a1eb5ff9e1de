// Whether the running Boost.Test case has failed so far, so a harness object can keep its
// evidence (temp dir, node logs) when it is destroyed at the end of a failed test.
#pragma once

namespace aegis::it {

// True when an assertion of the current test case failed or an exception is unwinding.
bool current_test_failed();

}  // namespace aegis::it
