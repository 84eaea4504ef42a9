// Fuzz target: NTS-KE responses (RFC 8915 §4) through proto::nts_ke_decoder fed in chunks,
// take_nts_ke_record / check_nts_ke_response, and proto::nts_ke_session fed the same bytes.
//
// Input: one byte choosing the chunk sizes (chunk = 1 + byte % 97, then each next chunk
// 1 + (previous * 7 + byte) % 97), then the bytes a server sends after the handshake.
//
// Invariants:
// - the records returned re-encode to exactly the bytes they were decoded from, in order;
// - chunking does not matter: one feed of everything gives the same records (except that a
//   message over the size limit is refused before any record when fed at once), and the same
//   error or the same finish() result;
// - a decoder says need-more only while less than a record is buffered;
// - a complete message without trailing bytes re-encodes to the whole input;
// - a response that passes check_nts_ke_response negotiated NTPv4, an AEAD we offered that
//   this library implements, and holds at least one cookie;
// - the session, fed the same chunks, ends as the decoder and the rules say, keeps every record
//   it took, never asks to send twice and never waits past a passed deadline.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/nts_ke.hpp"

namespace {

using namespace ntpkit::proto;
using bytes = std::vector<std::uint8_t>;

constexpr std::array<aead_algorithm, 1> offered{aead_algorithm::aes_siv_cmac_256};

struct decoded {
  std::vector<nts_ke_record> records;
  std::error_code error;   // of feed/next
  std::error_code finish;  // of finish(), when no error came first
  bool complete = false;
};

template <class NextChunk>
decoded decode(std::span<const std::uint8_t> in, NextChunk next_chunk) {
  nts_ke_decoder d;
  decoded out;
  std::size_t at = 0;
  while (at < in.size() && !out.error) {
    const std::size_t n = std::min(next_chunk(), in.size() - at);
    if (auto f = d.feed(in.subspan(at, n)); !f) {
      out.error = f.error();
      break;
    }
    at += n;
    for (;;) {
      auto r = d.next();
      if (!r) {
        out.error = r.error();
        break;
      }
      if (!*r) break;
      out.records.push_back(std::move(**r));
    }
  }
  if (!out.error) {
    const auto f = d.finish();
    out.finish = f ? std::error_code{} : f.error();
  }
  out.complete = d.complete();
  return out;
}

bytes encode(const std::vector<nts_ke_record>& records) {
  bytes out;
  for (const auto& r : records) append_nts_ke_record(out, r);
  return out;
}

void check_rules(const std::vector<nts_ke_record>& records) {
  nts_ke_response r;
  for (const auto& rec : records) {
    if (!take_nts_ke_record(r, rec)) return;
  }
  if (!check_nts_ke_response(r, offered)) return;
  NTPKIT_FUZZ_CHECK(r.next_protocol() == nts_next_protocol_ntpv4);
  NTPKIT_FUZZ_CHECK(r.aead() == aead_algorithm::aes_siv_cmac_256);
  NTPKIT_FUZZ_CHECK(!r.cookies.empty());
  NTPKIT_FUZZ_CHECK(r.errors.empty() && r.warnings.empty());
}

template <class NextChunk>
void check_session(std::span<const std::uint8_t> in, NextChunk next_chunk, const decoded& d) {
  nts_ke_session s({});
  steady_time now{};
  auto first = s.next(now);
  NTPKIT_FUZZ_CHECK(std::holds_alternative<send_bytes>(first));
  s.on_sent({0, {}, time_source::user, now});
  std::size_t at = 0;
  while (at < in.size() && !s.done()) {
    auto a = s.next(now);
    NTPKIT_FUZZ_CHECK(std::holds_alternative<wait_until>(a));
    NTPKIT_FUZZ_CHECK(std::get<wait_until>(a).deadline > now);
    const std::size_t n = std::min(next_chunk(), in.size() - at);
    s.on_bytes(in.subspan(at, n));
    at += n;
  }
  if (!s.done()) s.on_end_of_stream();
  NTPKIT_FUZZ_CHECK(std::holds_alternative<finished>(s.next(now)));
  const auto& o = s.outcome();
  // Every record the session took is one the decoder returned, in order.
  NTPKIT_FUZZ_CHECK(o.response.records.size() <= d.records.size());
  NTPKIT_FUZZ_CHECK(
      std::equal(o.response.records.begin(), o.response.records.end(), d.records.begin()));
  if (o.end == nts_ke_end::completed) {
    NTPKIT_FUZZ_CHECK(d.complete);
    NTPKIT_FUZZ_CHECK(!o.response.cookies.empty() && o.response.aead().has_value());
  }
  if (o.end == nts_ke_end::closed_early) {
    NTPKIT_FUZZ_CHECK(!d.complete && !d.error);
    NTPKIT_FUZZ_CHECK(o.error == d.finish);
  }
  NTPKIT_FUZZ_CHECK(o.end != nts_ke_end::running && o.end != nts_ke_end::timed_out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  auto chunks = [seed, previous = std::size_t{0}]() mutable {
    previous = 1 + (previous * 7 + seed) % 97;
    return previous;
  };
  const auto pieces = decode(in, chunks);
  const auto whole = decode(in, [&] { return in.size() + 1; });
  NTPKIT_FUZZ_CHECK(pieces.error == whole.error);
  // Over max_message, one feed is refused whole while chunks yield the records before.
  if (whole.error != errc::nts_ke_message_too_long) {
    NTPKIT_FUZZ_CHECK(pieces.records == whole.records);
  }
  const auto prefix = encode(pieces.records);
  NTPKIT_FUZZ_CHECK(
      std::equal(prefix.begin(), prefix.end(), in.begin(),
                 in.begin() + static_cast<std::ptrdiff_t>(std::min(prefix.size(), in.size()))));
  NTPKIT_FUZZ_CHECK(prefix.size() <= in.size());
  NTPKIT_FUZZ_CHECK(pieces.finish == whole.finish);
  NTPKIT_FUZZ_CHECK(pieces.complete == whole.complete);

  // The records are the input's prefix, byte for byte.
  const auto again = encode(whole.records);
  NTPKIT_FUZZ_CHECK(again.size() <= in.size());
  NTPKIT_FUZZ_CHECK(std::equal(again.begin(), again.end(), in.begin()));
  if (whole.complete && !whole.error) NTPKIT_FUZZ_CHECK(again.size() == in.size());
  if (!whole.error && !whole.complete) {
    // Not an error, not complete: finish() says what is missing.
    NTPKIT_FUZZ_CHECK(whole.finish == errc::truncated ||
                      whole.finish == errc::nts_ke_missing_end_of_message);
    NTPKIT_FUZZ_CHECK((whole.finish == errc::truncated) == (again.size() != in.size()));
  }
  check_rules(whole.records);
  auto session_chunks = [seed, previous = std::size_t{0}]() mutable {
    previous = 1 + (previous * 7 + seed) % 97;
    return previous;
  };
  check_session(in, session_chunks, pieces);
  return 0;
}
