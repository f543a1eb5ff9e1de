// See test_outcome.hpp.
#include "tests/integration/test_outcome.hpp"

#include <boost/test/framework.hpp>
#include <boost/test/results_collector.hpp>
#include <boost/test/tree/test_unit.hpp>
#include <exception>

namespace aegis::it {

bool current_test_failed() {
  if (std::uncaught_exceptions() > 0) return true;  // BOOST_REQUIRE or an unexpected throw
  namespace utf = boost::unit_test;
  if (!utf::framework::test_in_progress()) return false;
  const auto id = utf::framework::current_test_case().p_id;
  return !utf::results_collector.results(id).passed();
}

}  // namespace aegis::it
