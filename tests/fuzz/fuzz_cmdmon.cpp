// Fuzz target: chrony's command protocol (proto/cmdmon*.hpp). The first byte selects:
//
//   0  decode_reply over the rest (one reply datagram)
//   1  decode_request over the rest (one request datagram)
//   2  a cmdmon_query fed a script:  command (u16; a supported code is itself, other values
//      pick one), sequence (u32), flags (u8: bits 0-1
//      max_retries, bit 2 start as version 5, bit 3 no version 5 fallback), index (u32), events
//   3  a walk fed a script:  kind (u8: even clients, odd sources), flags (u8 as above), events
//
// Events, one byte each, then their data: 0 datagram (u16 length, bytes), 1 the same but with
// version, pkt_type, res1/res2, command and sequence set to answer the request in flight (so
// that the fuzzer reaches the bodies), 2 time to the deadline, 3 receive error, 4 send error,
// 5 a datagram from another address, 6 a datagram longer than the buffer, 7 time + N ms (u8).
//
// Invariants:
// - decode_reply accepts exactly the datagrams that hold a known layout in full, fails only
//   with its documented errors, and an accepted reply re-encodes to the same bytes (the
//   layout's length) and decodes again to an equal reply;
// - decode_request accepts only well-formed requests, whose fields re-encode to the same bytes;
// - a query sends only requests for its command and sequence, of the padded length, with
//   attempts counting up to max_retries (the version 5 fallback repeats one), never more than
//   max_retries + 2; its waits end when chronyc's would; when it ends, the outcome is
//   consistent (a reply answers the request, a timeout used every attempt); nothing changes it
//   afterwards; the ignored counts never exceed the datagrams fed;
// - a walk's requests are bounded by its limits, and a clients walk continues from the
//   next_index chronyd gave.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/cmdmon_query.hpp"
#include "ntpkit/proto/errc.hpp"

namespace {

using namespace ntpkit::proto;
namespace cm = ntpkit::proto::cmdmon;
using bytes = std::vector<std::uint8_t>;

// --- reading the script ---

class script {
 public:
  explicit script(std::span<const std::uint8_t> in) : in_(in) {}
  bool empty() const { return at_ >= in_.size(); }
  std::uint8_t u8() { return at_ < in_.size() ? in_[at_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  std::uint32_t u32() { return std::uint32_t{u16()} << 16 | u16(); }
  bytes take(std::size_t n) {
    n = std::min(n, in_.size() - std::min(at_, in_.size()));
    bytes b(in_.begin() + static_cast<std::ptrdiff_t>(at_),
            in_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
    return b;
  }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t at_ = 0;
};

// --- 0: replies ---

void check_reply(std::span<const std::uint8_t> in) {
  const auto r = cm::decode_reply(in);
  const auto h = cm::decode_reply_header(in);
  if (!r) {
    const auto e = r.error();
    NTPKIT_FUZZ_CHECK(e == errc::truncated || e == errc::cmdmon_not_reply ||
                      e == errc::cmdmon_bad_version || e == errc::cmdmon_unknown_reply ||
                      e == errc::cmdmon_unsupported_reply);
    if (e == errc::truncated) {
      NTPKIT_FUZZ_CHECK(!h || in.size() < cm::reply_length(h->reply));
    }
    return;
  }
  NTPKIT_FUZZ_CHECK(h && *h == r->header);
  const auto length = cm::reply_length(r->header.reply);
  NTPKIT_FUZZ_CHECK(length >= cm::reply_header_size && length <= in.size());
  NTPKIT_FUZZ_CHECK(cm::reply_code_of(r->body).value() == r->header.reply);
  const auto out = cm::encode_reply(*r);
  NTPKIT_FUZZ_CHECK(out && out->size() == length);
  NTPKIT_FUZZ_CHECK(std::equal(out->begin(), out->end(), in.begin()));
  const auto again = cm::decode_reply(*out);
  NTPKIT_FUZZ_CHECK(again && *again == *r);
  // The accessors take any values.
  std::visit(
      [](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, cm::client_accesses>) {
          NTPKIT_FUZZ_CHECK(b.valid().size() <= cm::max_client_accesses);
          for (const auto& c : b.valid()) NTPKIT_FUZZ_CHECK(!cm::to_string(c.ip).empty());
        } else if constexpr (std::is_same_v<T, cm::ntp_source_name>) {
          NTPKIT_FUZZ_CHECK(b.text().size() <= b.name.size());
          (void)b.is_valid();
        } else if constexpr (std::is_same_v<T, cm::tracking>) {
          NTPKIT_FUZZ_CHECK(!cm::to_string(b.ip_addr).empty());
          (void)b.ref_time.to_sys_time();
          const double x = b.freq_ppm.to_double();
          NTPKIT_FUZZ_CHECK(x == x);
          NTPKIT_FUZZ_CHECK(cm::float32::from_double(x).to_double() == x);
        } else if constexpr (std::is_same_v<T, cm::ntp_data>) {
          NTPKIT_FUZZ_CHECK(b.ref_time.nanoseconds() <= 999'999'999u);
          NTPKIT_FUZZ_CHECK(!cm::to_string(b.remote_addr).empty());
        }
      },
      r->body);
}

// --- 1: requests ---

void check_request(std::span<const std::uint8_t> in) {
  const auto d = cm::decode_request(in);
  if (!d) {
    const auto e = d.error();
    NTPKIT_FUZZ_CHECK(e == errc::truncated || e == errc::cmdmon_not_request ||
                      e == errc::cmdmon_bad_version || e == errc::cmdmon_unsupported_command ||
                      e == errc::cmdmon_bad_length);
    return;
  }
  NTPKIT_FUZZ_CHECK(cm::is_supported(d->body.code));
  const auto out = cm::encode_request(d->body, d->header);
  NTPKIT_FUZZ_CHECK(out && out->size() == cm::request_length(d->body.code, d->header.version));
  // Header and data are the input's; pad1/pad2 and the padding are zero in ours.
  const auto unpadded = cm::request_length(d->body.code, cm::protocol_version_5);
  NTPKIT_FUZZ_CHECK(unpadded <= in.size() && unpadded <= out->size());
  NTPKIT_FUZZ_CHECK(std::equal(out->begin(), out->begin() + 12, in.begin()));
  NTPKIT_FUZZ_CHECK(
      std::equal(out->begin() + 20, out->begin() + static_cast<long>(unpadded), in.begin() + 20));
  const auto again = cm::decode_request(*out);
  NTPKIT_FUZZ_CHECK(again && again->body == d->body && again->header == d->header);
}

// --- 2, 3: sessions ---

const steady_time start = steady_time{} + std::chrono::hours(1);

cm::command pick_command(std::uint16_t c) {
  static constexpr cm::command supported[] = {cm::command::null,
                                              cm::command::n_sources,
                                              cm::command::source_data,
                                              cm::command::tracking,
                                              cm::command::sourcestats,
                                              cm::command::rtcreport,
                                              cm::command::manual_list,
                                              cm::command::activity,
                                              cm::command::smoothing,
                                              cm::command::server_stats,
                                              cm::command::ntp_data,
                                              cm::command::ntp_source_name,
                                              cm::command::auth_data,
                                              cm::command::client_accesses_by_index2,
                                              cm::command::client_accesses_by_index3,
                                              cm::command::select_data};
  // A supported code is itself (the seeds name real commands); other values below 0x8000 pick
  // one, higher ones pass through (unsupported commands end the query at once).
  if (cm::is_supported(static_cast<cm::command>(c))) return static_cast<cm::command>(c);
  return c < 0x8000 ? supported[c % std::size(supported)] : static_cast<cm::command>(c & 0x7fff);
}

cmdmon_timing timing_from(std::uint8_t flags) {
  cmdmon_timing t;
  t.max_retries = flags & 3u;
  t.version = flags & 4u ? cm::protocol_version_5 : cm::protocol_version;
  t.version5_fallback = !(flags & 8u);
  return t;
}

// What the fuzz driver knows of the request in flight, to make "echo" datagrams answer it.
struct in_flight {
  bytes request;
  steady_time sent_at{};
};

void echo(bytes& d, const bytes& request) {
  if (d.size() < cm::reply_header_size || request.size() < cm::request_header_size) return;
  d[0] = request[0];
  d[1] = cm::pkt_type_reply;
  d[2] = 0;
  d[3] = 0;
  d[4] = request[4];
  d[5] = request[5];
  std::copy(request.begin() + 8, request.begin() + 12, d.begin() + 16);
}

// Runs events on a session S; `on_send` checks each request. Returns the datagrams fed.
template <class S, class OnSend>
std::uint32_t run(S& s, script& in, OnSend on_send) {
  steady_time now = start;
  in_flight last;
  std::uint32_t fed = 0;
  for (int step = 0; step < 4096; ++step) {
    auto a = s.next(now);
    if (auto* b = std::get_if<send_bytes>(&a)) {
      on_send(*b, now);
      last = {b->bytes, now};
      s.on_sent({.tag = b->tag, .time = {}, .source = time_source::user, .at = now});
      continue;
    }
    if (std::holds_alternative<finished>(a) || in.empty()) return fed;
    const auto deadline = std::get<wait_until>(a).deadline;
    NTPKIT_FUZZ_CHECK(deadline > now);  // a due deadline is acted on, never waited for
    const auto e = in.u8() % 8;
    if (e == 2) {
      now = deadline;
    } else if (e == 7) {
      now += std::chrono::milliseconds(in.u8());
    } else if (e == 3) {
      s.on_transport_error(std::make_error_code(std::errc::connection_refused));
    } else if (e == 4) {
      s.on_send_failed(std::make_error_code(std::errc::network_unreachable));
    } else {
      bytes d = in.take(in.u16() % 1024);
      if (e == 1) echo(d, last.request);
      datagram_meta m;
      m.from_peer = e != 5;
      m.truncated = e == 6;
      s.on_datagram(d, m);
      ++fed;
    }
  }
  return fed;
}

std::uint64_t total(const ignore_counts& ignored) {
  std::uint64_t n = 0;
  for (const auto& [reason, x] : ignored) n += x;
  return n;
}

void check_query(script& in) {
  cmdmon_plan plan;
  plan.request.code = pick_command(in.u16());
  plan.sequence = in.u32();
  plan.timing = timing_from(in.u8());
  plan.request.index = plan.request.first_index = in.u32();
  plan.request.address = cm::ip_addr::from_in4(plan.request.index);
  cmdmon_query q(plan);
  std::uint32_t sends = 0;
  int last_attempt = -1;
  const auto fed = run(q, in, [&](const send_bytes& b, steady_time) {
    ++sends;
    const auto d = cm::decode_request(b.bytes);
    NTPKIT_FUZZ_CHECK(d.has_value());
    NTPKIT_FUZZ_CHECK(d->body.code == plan.request.code);
    NTPKIT_FUZZ_CHECK(d->header.sequence == plan.sequence);
    NTPKIT_FUZZ_CHECK(d->header.version == q.outcome().version);
    NTPKIT_FUZZ_CHECK(b.bytes.size() == cm::request_length(d->body.code, d->header.version));
    NTPKIT_FUZZ_CHECK(d->header.attempt <= plan.timing.max_retries);
    NTPKIT_FUZZ_CHECK(static_cast<int>(d->header.attempt) >= last_attempt);
    NTPKIT_FUZZ_CHECK(b.tag == d->header.attempt);
    last_attempt = d->header.attempt;
  });
  const auto& o = q.outcome();
  NTPKIT_FUZZ_CHECK(sends == o.requests_sent);
  NTPKIT_FUZZ_CHECK(sends <= plan.timing.max_retries + 2);
  NTPKIT_FUZZ_CHECK(total(o.ignored) <= fed);
  if (!q.done()) return;
  NTPKIT_FUZZ_CHECK(o.kind != cmdmon_outcome_kind::pending);
  switch (o.kind) {
    case cmdmon_outcome_kind::reply: {
      NTPKIT_FUZZ_CHECK(o.reply.has_value());
      const auto& h = o.reply->header;
      NTPKIT_FUZZ_CHECK(h.cmd == plan.request.code && h.sequence == plan.sequence);
      NTPKIT_FUZZ_CHECK(h.version == o.version && cm::is_success(h.status));
      const auto codes = cm::replies_to(plan.request.code);
      NTPKIT_FUZZ_CHECK(std::find(codes.begin(), codes.end(), h.reply) != codes.end());
      break;
    }
    case cmdmon_outcome_kind::status_error:
      NTPKIT_FUZZ_CHECK(o.reply && !cm::is_success(o.reply->header.status));
      break;
    case cmdmon_outcome_kind::timeout:
      NTPKIT_FUZZ_CHECK(o.last_attempt == plan.timing.max_retries && !o.reply);
      break;
    case cmdmon_outcome_kind::transport_error:
      NTPKIT_FUZZ_CHECK(static_cast<bool>(o.error));
      break;
    case cmdmon_outcome_kind::bad_reply:
      NTPKIT_FUZZ_CHECK(static_cast<bool>(o.error));
      break;
    case cmdmon_outcome_kind::pending:
      break;
  }
  // Nothing changes a finished query.
  const auto kind = o.kind;
  q.on_datagram(bytes(28, 0), {});
  q.on_transport_error(std::make_error_code(std::errc::io_error));
  NTPKIT_FUZZ_CHECK(q.outcome().kind == kind && std::holds_alternative<finished>(q.next(start)));
}

void check_walk(script& in) {
  const bool clients = in.u8() % 2 == 0;
  const auto timing = timing_from(in.u8());
  const std::uint32_t per_query = timing.max_retries + 2;
  if (clients) {
    cmdmon_clients_walk w({.first_index = 0,
                           .min_hits = 0,
                           .reset = false,
                           .first_sequence = 7,
                           .max_records = 40,
                           .max_requests = 6,
                           .timing = timing});
    std::uint32_t sends = 0;
    run(w, in, [&](const send_bytes& b, steady_time) {
      ++sends;
      const auto d = cm::decode_request(b.bytes);
      NTPKIT_FUZZ_CHECK(d && d->body.code == cm::command::client_accesses_by_index3);
      NTPKIT_FUZZ_CHECK(d->body.reset == 0 && d->body.n_clients == cm::max_client_accesses);
      NTPKIT_FUZZ_CHECK(d->body.first_index == w.outcome().next_index);
    });
    // requests_sent counts the finished queries' requests.
    NTPKIT_FUZZ_CHECK(sends <= 6 * per_query && sends >= w.outcome().requests_sent);
    NTPKIT_FUZZ_CHECK(!w.done() || sends == w.outcome().requests_sent);
    NTPKIT_FUZZ_CHECK(w.outcome().clients.size() <= 40);
    if (w.done()) NTPKIT_FUZZ_CHECK(w.outcome().kind != cmdmon_outcome_kind::pending);
  } else {
    cmdmon_sources_walk w({.per_source = cm::command::source_data,
                           .first_sequence = 7,
                           .max_sources = 5,
                           .timing = timing});
    std::uint32_t sends = 0;
    run(w, in, [&](const send_bytes&, steady_time) { ++sends; });
    NTPKIT_FUZZ_CHECK(sends <= 6 * per_query && sends >= w.outcome().requests_sent);
    NTPKIT_FUZZ_CHECK(!w.done() || sends == w.outcome().requests_sent);
    NTPKIT_FUZZ_CHECK(w.outcome().sources.size() <= 5);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      check_reply(rest);
      break;
    case 1:
      check_request(rest);
      break;
    case 2: {
      script in(rest);
      check_query(in);
      break;
    }
    default: {
      script in(rest);
      check_walk(in);
      break;
    }
  }
  return 0;
}
