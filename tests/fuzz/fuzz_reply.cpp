// Fuzz target: the reply classifier (parse_packet, assess_reply's sanity checks and kiss
// detection, measure, root_distance, conclude) over a client state and a datagram. The input
// layout and the invariants are in reply_model.hpp; fuzz_report runs the same inputs through
// the formatters as well.

#include <cstddef>
#include <cstdint>

#include "reply_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ntpkit::fuzz::run_reply_input(data, size, false);
  return 0;
}
