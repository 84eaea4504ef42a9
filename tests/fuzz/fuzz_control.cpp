// Fuzz target: the mode 6 header and fragment parsers, control_reassembler and control_query
// fed a sequence of datagrams (proto/control.hpp, proto/control_query.hpp; RFC 9327).
//
// Input: a 12-byte request header (its sequence and opcode say which response is collected),
// then datagrams, each as a 2-byte big-endian length and its bytes (a short tail is one last
// datagram). tests/tools/mode6-transcribe writes captured exchanges in this form.
//
// Invariants:
// - a parsed header writes back to the datagram's first 12 bytes; a fragment's data is its
//   `count` bytes and its trailer the rest;
// - stray datagrams (is_stray_control_error) change nothing; a fatal error stays; fragment and
//   byte counts stay within the limits;
// - a complete data response holds exactly the accepted fragments' bytes at their offsets, and
//   the same fragments fed in reverse order complete to the same data (placement by offset,
//   never by arrival);
// - missing() is empty exactly when complete; the response's header is that of a fragment fed;
// - control_query given the same datagrams agrees with the reassembler (complete ⇔ response or
//   server_error, a fatal error ⇔ bad_response with that code), and verify_control_mac and
//   parse_association_list accept any input without crashing.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "ntpkit/proto/control.hpp"
#include "ntpkit/proto/control_query.hpp"
#include "ntpkit/proto/errc.hpp"

namespace {

using namespace ntpkit::proto;
using bytes = std::vector<std::uint8_t>;

std::vector<bytes> split(std::span<const std::uint8_t> in) {
  std::vector<bytes> out;
  while (in.size() >= 2) {
    const std::size_t n = std::min<std::size_t>(in[0] << 8 | in[1], in.size() - 2);
    out.emplace_back(in.begin() + 2, in.begin() + 2 + static_cast<std::ptrdiff_t>(n));
    in = in.subspan(2 + n);
  }
  if (!in.empty()) out.emplace_back(in.begin(), in.end());
  return out;
}

void check_parsers(const bytes& d) {
  const auto h = parse_control_header(d);
  if (!h) {
    NTPKIT_FUZZ_CHECK(h.error() == errc::truncated || h.error() == errc::not_control_message);
    NTPKIT_FUZZ_CHECK((d.size() < control_header_size) == (h.error() == errc::truncated));
    return;
  }
  bytes out(control_header_size);
  write_control_header(*h, out);
  NTPKIT_FUZZ_CHECK(std::equal(out.begin(), out.end(), d.begin()));
  const auto f = parse_control_fragment(d);
  NTPKIT_FUZZ_CHECK(f.has_value() == (control_header_size + h->count <= d.size()));
  if (f) {
    NTPKIT_FUZZ_CHECK(f->data.size() == h->count);
    NTPKIT_FUZZ_CHECK(f->data.size() + f->trailer.size() + control_header_size == d.size());
    (void)parse_association_list(f->data);
  }
  static const auto key =
      *symmetric_key::make(1, mac_algorithm::md5, std::vector<std::uint8_t>{'k', 'e', 'y'});
  (void)verify_control_mac(d, key);
}

struct accepted {
  bytes datagram;
  control_header header;
};

void check_complete(const control_reassembler& r, const std::vector<accepted>& taken,
                    std::uint16_t sequence, control_opcode op) {
  const auto& resp = r.response();
  NTPKIT_FUZZ_CHECK(!r.missing());
  if (resp.error) return;
  NTPKIT_FUZZ_CHECK(resp.data.size() == r.byte_count());
  NTPKIT_FUZZ_CHECK(resp.fragments == r.fragment_count());
  for (const auto& a : taken) {
    const auto f = parse_control_fragment(a.datagram);
    NTPKIT_FUZZ_CHECK(a.header.offset + f->data.size() <= resp.data.size());
    NTPKIT_FUZZ_CHECK(
        std::equal(f->data.begin(), f->data.end(), resp.data.begin() + a.header.offset));
  }
  control_reassembler reversed(sequence, op);
  for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
    NTPKIT_FUZZ_CHECK(reversed.feed(it->datagram).has_value());
  }
  NTPKIT_FUZZ_CHECK(reversed.complete());
  NTPKIT_FUZZ_CHECK(reversed.response().data == resp.data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < control_header_size) return 0;
  const std::span<const std::uint8_t> in(data, size);
  const auto request = parse_control_header(in.first(control_header_size));
  const std::uint16_t sequence = request ? request->sequence : 0;
  const control_opcode op = request ? request->opcode : control_opcode::read_variables;
  const auto datagrams = split(in.subspan(control_header_size));

  control_limits limits;
  limits.max_fragments = 16;  // small, so that the fuzzer reaches the limit
  limits.max_bytes = 4096;
  control_reassembler r(sequence, op, limits);
  std::vector<accepted> taken;
  std::error_code fatal;
  for (const auto& d : datagrams) {
    check_parsers(d);
    const std::size_t frags = r.fragment_count(), held = r.byte_count();
    const bool was_complete = r.complete();
    const auto res = r.feed(d);
    if (!res && is_stray_control_error(res.error())) {
      NTPKIT_FUZZ_CHECK(r.fragment_count() == frags && r.byte_count() == held);
    } else if (!res) {
      NTPKIT_FUZZ_CHECK(!fatal || fatal == res.error());
      fatal = res.error();
      NTPKIT_FUZZ_CHECK(r.failure() == fatal && r.missing() == fatal);
    } else if (!was_complete && r.fragment_count() > frags) {
      taken.push_back({d, *parse_control_header(d)});
    }
    NTPKIT_FUZZ_CHECK(r.fragment_count() <= limits.max_fragments);
    NTPKIT_FUZZ_CHECK(r.byte_count() <= limits.max_bytes);
    NTPKIT_FUZZ_CHECK(!was_complete || r.complete());
  }
  NTPKIT_FUZZ_CHECK(r.complete() != static_cast<bool>(r.missing()));
  if (r.complete()) check_complete(r, taken, sequence, op);

  // The session over the same datagrams.
  control_query_options o;
  o.opcode = op;
  o.sequence = sequence;
  o.limits = limits;
  o.retries = 0;
  o.max_datagrams = datagrams.size() + 1;
  const steady_time t0{};
  control_query q(o, t0);
  const auto first = q.next(t0);
  NTPKIT_FUZZ_CHECK(std::holds_alternative<send_bytes>(first));
  q.on_sent({.tag = std::get<send_bytes>(first).tag, .at = t0});
  for (const auto& d : datagrams) q.on_datagram(d, {.at = t0});
  if (r.complete()) {
    NTPKIT_FUZZ_CHECK(q.done());
    NTPKIT_FUZZ_CHECK(q.result().outcome == (r.response().error ? control_outcome::server_error
                                                                : control_outcome::response));
    NTPKIT_FUZZ_CHECK(q.result().response.data == r.response().data);
  } else if (r.failure()) {
    NTPKIT_FUZZ_CHECK(q.done() && q.result().outcome == control_outcome::bad_response);
    NTPKIT_FUZZ_CHECK(q.result().error == r.failure());
  } else {
    NTPKIT_FUZZ_CHECK(!q.done());
    const auto later = q.next(t0 + std::chrono::hours(1));
    NTPKIT_FUZZ_CHECK(std::holds_alternative<finished>(later));
    NTPKIT_FUZZ_CHECK(q.result().outcome == control_outcome::timeout ||
                      q.result().outcome == control_outcome::incomplete);
  }
  return 0;
}
