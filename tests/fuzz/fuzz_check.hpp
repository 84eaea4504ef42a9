#pragma once

// Invariant checks for fuzz targets. They hold in every build type: assert() disappears under
// NDEBUG, which the default RelWithDebInfo build defines, and a fuzz target that checks nothing
// in the default build would replay its corpus without testing anything.

#include <cstdio>
#include <cstdlib>

namespace ntpkit::fuzz {

/// Reports a broken invariant and aborts, which libFuzzer and the replay main both treat as
/// a crash of the current input.
[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace ntpkit::fuzz

/// Aborts with the condition's text when `cond` is false.
#define NTPKIT_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::ntpkit::fuzz::fail(#cond, __FILE__, __LINE__))
