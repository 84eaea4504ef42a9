// Fuzz target: what a reply's bytes reach on their way to the user. The inputs of fuzz_reply
// (reply_model.hpp; the corpus and dictionary are fuzz_reply's) go through the classifier and
// then the text and JSON formatters: they never throw, the text has no control characters,
// and the JSON parses back with nlohmann and says what was measured. Formatting and re-parsing
// make this target about ten times slower than fuzz_reply, which is why the two are apart.

#include <cstddef>
#include <cstdint>

#include "reply_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ntpkit::fuzz::run_reply_input(data, size, true);
  return 0;
}
