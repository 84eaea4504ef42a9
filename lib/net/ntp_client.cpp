#include "ntpkit/net/ntp_client.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <deque>
#include <exception>

#include "../proto/dotted_quad.hpp"
#include "ntpkit/net/udp_exchange.hpp"
#include "run.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/packet.hpp"

namespace ntpkit::net {
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using steady = std::chrono::steady_clock;
using report::error_info;
using report::error_kind;

// Room for any NTP datagram we accept (header, NTS fields, MAC); longer ones are "oversized".
constexpr std::size_t receive_buffer_size = 2048;

// An address as text; IPv4 by hand (see proto/dotted_quad.hpp).
std::string address_text(const asio::ip::address& address) {
  return address.is_v4() ? proto::detail::dotted_quad(address.to_v4().to_bytes())
                         : address.to_string();
}

std::string endpoint_text(const udp::endpoint& e) {
  const auto a = address_text(e.address());
  return (e.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(e.port());
}

error_info socket_error(std::error_code ec, const udp::endpoint& server) {
  if (ec == std::errc::connection_refused) {
    return {error_kind::unreachable,
            "port unreachable: nothing listens on " + endpoint_text(server), {}};
  }
  if (ec == std::errc::host_unreachable) return {error_kind::unreachable, "host unreachable", {}};
  if (ec == std::errc::network_unreachable) {
    return {error_kind::unreachable, "network unreachable", {}};
  }
  return {error_kind::network, ec.message(), {}};
}

// The local side of an answered exchange, kept so that an interleaved answer can complete it.
struct exchange_record {
  proto::date t1_date;
  report::time_source t1_source = report::time_source::user;
  proto::date t4_date;
  report::time_source t4_source = report::time_source::user;
  proto::timestamp t2;  // the server's receive timestamp, which the next request echoes
  std::uint32_t attempt = 0;
};

// The error of a query that stops because its address kissed another query of this run.
error_info kissed_earlier(const std::string& code, std::uint32_t requests_sent) {
  return {error_kind::kiss,
          std::string(requests_sent == 0 ? "not queried" : "no further requests") +
              ": it sent kiss-o'-death " + code + " earlier in this run",
          code};
}

// One request on the wire, remembered until the end of the address's queries so that late
// answers are still taken and replays are recognised.
struct outstanding {
  proto::timestamp transmit;
  proto::sys_nanoseconds t1;
  std::uint32_t id = 0;
  std::uint32_t attempt = 0;
  bool answered = false;
  // Interleaved requests: the random receive field the server echoes as origin when it
  // answers interleaved, and the exchange that answer completes.
  std::optional<proto::timestamp> token;
  std::optional<exchange_record> previous;
};

report::sample make_sample(const proto::packet& reply, const outstanding& req,
                           std::optional<proto::sys_nanoseconds> kernel_t1,
                           const received_datagram& d, bool authenticated) {
  report::sample s;
  s.reply = reply;
  s.attempt = req.attempt;
  s.t1_source = kernel_t1 ? report::time_source::kernel : report::time_source::user;
  s.t1_date = proto::date::from_sys_time(kernel_t1.value_or(req.t1));
  s.t4_date = proto::date::from_sys_time(d.time);
  s.t4_source = d.source;
  s.times = {s.t1_date.to_timestamp(), reply.receive, reply.transmit, s.t4_date.to_timestamp()};
  s.measured = proto::measure(s.times, reply.precision, local_precision());
  proto::reply_expectation expected;
  expected.sent_transmit = req.transmit;
  expected.local_precision = local_precision();
  if (authenticated) expected.mac_verified = true;
  s.assessed = proto::assess_reply(reply, s.times.t1, s.times.t4, expected);
  return s;
}

// An interleaved answer completes the previous exchange: its T1, T2 and T4 with this answer's
// transmit timestamp, the server's exact send time of the previous answer (RFC 9769 §2).
report::sample make_interleaved_sample(const proto::packet& reply, const outstanding& req,
                                       bool authenticated) {
  const auto& prev = *req.previous;
  report::sample s;
  s.interleaved = true;
  s.reply = reply;
  s.reply.receive = prev.t2;
  s.attempt = prev.attempt;
  s.t1_date = prev.t1_date;
  s.t1_source = prev.t1_source;
  s.t4_date = prev.t4_date;
  s.t4_source = prev.t4_source;
  s.times = {s.t1_date.to_timestamp(), prev.t2, reply.transmit, s.t4_date.to_timestamp()};
  s.measured = proto::measure(s.times, reply.precision, local_precision());
  proto::reply_expectation expected;
  expected.sent_transmit = *req.token;
  expected.local_precision = local_precision();
  if (authenticated) expected.mac_verified = true;
  s.assessed = proto::assess_reply(s.reply, s.times.t1, s.times.t4, expected);
  return s;
}

// Waits for the answer to any outstanding request until `deadline`. Returns true when a
// reply was taken, false on timeout; sets `transport` on socket errors.
// The ignored-reason for a reply whose MAC did not verify.
std::string_view mac_failure(std::error_code ec) {
  if (ec == proto::errc::mac_missing) return "mac_missing";
  if (ec == proto::errc::key_id_mismatch) return "mac_key_id";
  if (ec == proto::errc::crypto_nak) return "crypto_nak";
  if (ec == proto::errc::bad_mac_length) return "mac_length";
  return "mac";
}

asio::awaitable<bool> await_reply(timestamping_socket& sock, const udp::endpoint& server,
                                  const query_options& o, std::vector<outstanding>& sent,
                                  steady::time_point deadline, report::address_report& a,
                                  error_info& transport, std::optional<exchange_record>& last,
                                  std::span<const udp::endpoint> earlier) {
  std::array<std::uint8_t, receive_buffer_size> buf;
  for (;;) {
    auto d = co_await sock.receive(buf, deadline);
    if (!d) {
      if (d.error() != std::errc::timed_out) transport = socket_error(d.error(), server);
      co_return false;
    }
    if (d->from != server) {
      // A late datagram from a server this socket asked before (probe() reuses sockets) is
      // no business of this address: dropped without a count.
      if (std::find(earlier.begin(), earlier.end(), d->from) == earlier.end()) {
        a.ignore("source");
      }
      continue;
    }
    if (d->truncated) {
      a.ignore("oversized");
      continue;
    }
    auto reply = proto::parse_packet(std::span(buf.data(), d->size));
    if (!reply) {
      a.ignore("malformed");
      continue;
    }
    // A basic answer echoes our transmit field, an interleaved one our receive field.
    auto req = std::find_if(sent.begin(), sent.end(), [&](const outstanding& r) {
      return r.transmit == reply->origin || (r.token && *r.token == reply->origin);
    });
    if (req == sent.end()) {
      a.ignore("origin");
      continue;
    }
    if (req->answered) {
      a.ignore("duplicate");
      continue;
    }
    if (o.key) {
      // RFC 5905: a reply that fails authentication is dropped; keep waiting for one that
      // passes (an attacker on the path could otherwise answer first).
      if (auto v = proto::verify_mac(*o.key, std::span(buf.data(), d->size)); !v) {
        a.ignore(mac_failure(v.error()));
        continue;
      }
    }
    const bool interleaved = req->token && *req->token == reply->origin;
    auto s = interleaved ? make_interleaved_sample(*reply, *req, o.key.has_value())
                         : make_sample(*reply, *req, sock.transmit_time(req->id), *d,
                                       o.key.has_value());
    if (s.assessed.result == proto::verdict::not_for_us ||
        s.assessed.result == proto::verdict::bad_mac) {
      a.ignore(proto::check_name(*s.assessed.checks.first_failure()));
      continue;
    }
    req->answered = true;
    // What the next interleaved request needs: this request's T1, this answer's T2 and T4.
    const auto t1 = sock.transmit_time(req->id);
    last = exchange_record{
        proto::date::from_sys_time(t1.value_or(req->t1)),
        t1 ? report::time_source::kernel : report::time_source::user,
        proto::date::from_sys_time(d->time), d->source, reply->receive, req->attempt};
    a.samples.push_back(std::move(s));
    co_return true;
  }
}

}  // namespace

asio::awaitable<void> pacer::wait_turn(const udp::endpoint& to) {
  const auto now = steady::now();
  auto [it, fresh] = next_.try_emplace(to, now);
  const auto when = std::max(it->second, now);
  it->second = when + interval_;
  if (when > now) {
    asio::steady_timer t(co_await asio::this_coro::executor, when);
    co_await t.async_wait(use_tuple);
  }
}

void pacer::sent(const udp::endpoint& to) {
  auto& next = next_[to];
  next = std::max(next, steady::now() + interval_);
}

namespace {

// A socket that probe()'s worker keeps for its next address of the same family. Opening and
// closing a socket per address (socket, two setsockopt, ioctl, epoll_ctl, bind on first send,
// close) was a fifth of ntpprobe's CPU time against 1000 servers (perf); a worker reuses its
// socket when the exchange on it ended cleanly: every request answered once, nothing else
// received, no error. Then nothing more is expected on it; what may still come is read and
// dropped before the next address uses it, so it is never counted against that address.
struct reusable_socket {
  timestamping_socket socket;
  std::vector<udp::endpoint> earlier;  // the last servers it asked (at most 8)
};
using spare_socket = std::optional<reusable_socket>;

asio::awaitable<result<timestamping_socket>> socket_for(const udp::endpoint& server,
                                                       spare_socket* spare,
                                                       std::vector<udp::endpoint>& earlier) {
  if (spare == nullptr || !*spare) {
    co_return timestamping_socket::open(co_await asio::this_coro::executor, server.protocol());
  }
  timestamping_socket sock = std::move((*spare)->socket);
  earlier = std::move((*spare)->earlier);
  spare->reset();
  std::array<std::uint8_t, 64> scratch;
  for (int i = 0; i < 64; ++i) {  // bounded: a few strays at most
    auto d = co_await sock.receive(scratch, steady::time_point::min());
    if (!d) break;  // nothing queued (timed_out at once), or an old ICMP error read off
  }
  co_return sock;
}

asio::awaitable<report::address_report> query_on(udp::endpoint server, const query_options& o,
                                                 pacer& pace, spare_socket* spare) {
  report::address_report a;
  a.address = address_text(server.address());
  a.port = server.port();
  a.ipv6 = server.address().is_v6();
  if (const auto* code = pace.kiss_of(server)) {
    report::conclude(a, kissed_earlier(*code, 0));
    co_return a;
  }
  std::vector<udp::endpoint> earlier;  // servers asked before on a reused socket
  auto sock = co_await socket_for(server, spare, earlier);
  if (!sock) {
    report::conclude(a, {error_kind::network, "cannot open socket: " + sock.error().message(), {}});
    co_return a;
  }
  if (o.key) {
    const auto alg = o.key->algorithm();
    a.key = report::key_use{o.key->id(), std::string(proto::to_string(alg)),
                            proto::wire_digest_size(alg, o.mac.length),
                            proto::version_for_mac(alg, o.mac, o.version)};
  }
  std::vector<outstanding> sent;
  std::optional<exchange_record> last;  // the latest answered exchange
  error_info transport;
  bool stop = false;
  for (unsigned round = 0; round < o.samples && !stop; ++round) {
    bool answered = false;
    for (unsigned attempt = 0; attempt <= o.retries && !answered && !stop; ++attempt) {
      co_await pace.wait_turn(server);
      // Another query to this address may have been kissed while we waited for our turn.
      if (const auto* code = pace.kiss_of(server)) {
        transport = kissed_earlier(*code, a.requests);
        stop = true;
        break;
      }
      const auto xmt = proto::timestamp::from_bits(random_bits());
      auto packet = proto::make_client_request(xmt, o.version);
      std::optional<proto::timestamp> token;
      if (o.interleaved && last) {
        // RFC 9769: origin = the server's receive timestamp of its previous answer; receive =
        // a value the server echoes back (random, so it also authenticates the answer).
        token = proto::timestamp::from_bits(random_bits() | 1);
        if (*token == xmt) token = proto::timestamp::from_bits(token->bits() ^ 2);
        packet.origin = last->t2;
        packet.receive = *token;
      }
      auto request = proto::serialize_packet(packet);
      if (o.key) {
        if (auto signed_ok = proto::append_mac(request, *o.key, o.mac); !signed_ok) {
          transport = {error_kind::auth, "cannot sign the request: " +
                                             signed_ok.error().message(), {}};
          stop = true;
          break;
        }
      }
      auto d = sock->send(request, server);
      pace.sent(server);
      if (!d) {
        transport = socket_error(d.error(), server);
        stop = true;
        break;
      }
      ++a.requests;
      sent.push_back({xmt, d->user_time, d->id, attempt, false, token,
                      token ? last : std::nullopt});
      transport = {error_kind::timeout, {}, {}};  // the message is written if it stands
      answered =
          co_await await_reply(*sock, server, o, sent, steady::now() + o.timeout, a, transport,
                               last, earlier);
      if (answered) {
        transport = {};
        // Kiss-o'-Death: RATE means slow down, DENY/RSTR mean go away; either way we stop.
        const auto& verdict = a.samples.back().assessed;
        stop = verdict.result == proto::verdict::kiss;
        if (stop) pace.kissed(server, verdict.kiss_code);
      } else if (transport.kind != error_kind::timeout) {
        stop = true;
      }
    }
  }
  if (transport.kind == error_kind::timeout && transport.message.empty()) {
    transport.message = "no reply within " + detail::seconds_text(o.timeout);
  }
  const bool clean = !transport && !stop && a.ignored.empty() &&
                     std::all_of(sent.begin(), sent.end(),
                                 [](const outstanding& r) { return r.answered; });
  if (spare != nullptr && clean) {
    if (earlier.size() == 8) earlier.erase(earlier.begin());
    earlier.push_back(server);
    spare->emplace(reusable_socket{std::move(*sock), std::move(earlier)});
  }
  report::conclude(a, transport);
  co_return a;
}

}  // namespace

asio::awaitable<report::address_report> query(udp::endpoint server, const query_options& o,
                                              pacer& pace) {
  co_return co_await query_on(std::move(server), o, pace, nullptr);
}

std::size_t default_concurrency() noexcept {
  rlimit r{};
  std::size_t limit = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY) limit = r.rlim_cur;
  // Leave room for stdio, the resolver and the libraries; one socket per address in flight.
  const std::size_t spare = limit > 64 ? limit - 32 : limit / 2;
  return std::clamp<std::size_t>(spare / 2, 1, 512);
}

namespace {

struct probe_state {
  std::vector<target> targets;
  probe_options options;
  target_done on_done;
  pacer pace;
  std::vector<report::target_report> reports;
  std::vector<std::vector<udp::endpoint>> endpoints;
  std::vector<std::size_t> remaining;
  std::deque<std::pair<std::size_t, std::size_t>> jobs;
  std::size_t next_target = 0;
  std::size_t workers_left = 0;
  std::exception_ptr failure;
  report::ipv6_refid_table refids;  // the candidates and every IPv6 address resolved so far
};

void finish_target(probe_state& st, std::size_t t) {
  report::match_ipv6_refids(st.reports[t], st.refids);
  if (st.on_done) st.on_done(t, st.reports[t]);
  if (!st.options.keep_reports) {
    st.reports[t] = {};
    st.endpoints[t] = {};
  }
}

asio::awaitable<void> resolve_target(probe_state& st, std::size_t t) {
  auto& r = st.reports[t];
  auto eps = co_await resolve(st.targets[t], st.options.address_family);
  if (!eps) {
    r.error = {error_kind::resolve,
               describe_resolve_error(eps.error(), st.options.address_family), {}};
    finish_target(st, t);
    co_return;
  }
  st.endpoints[t] = std::move(*eps);
  for (const auto& e : st.endpoints[t]) {
    if (e.address().is_v6()) report::add_ipv6_refid(st.refids, e.address().to_string());
  }
  st.remaining[t] = st.endpoints[t].size();
  r.addresses.resize(st.endpoints[t].size());
  for (std::size_t i = 0; i < st.endpoints[t].size(); ++i) st.jobs.emplace_back(t, i);
}

asio::awaitable<void> worker(probe_state& st) {
  spare_socket spare_v4, spare_v6;  // see query_on()
  for (;;) {
    if (!st.jobs.empty()) {
      const auto [t, i] = st.jobs.front();
      st.jobs.pop_front();
      const auto& server = st.endpoints[t][i];
      st.reports[t].addresses[i] = co_await query_on(
          server, st.options.query, st.pace, server.address().is_v6() ? &spare_v6 : &spare_v4);
      if (--st.remaining[t] == 0) finish_target(st, t);
    } else if (st.next_target < st.targets.size()) {
      co_await resolve_target(st, st.next_target++);
    } else {
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<std::vector<report::target_report>> probe(std::vector<target> targets,
                                                          probe_options options,
                                                          target_done on_done) {
  auto ex = co_await asio::this_coro::executor;
  probe_state st{.targets = std::move(targets),
                 .options = options,
                 .on_done = std::move(on_done),
                 .pace = pacer(options.query.interval),
                 .reports = {},
                 .endpoints = {},
                 .remaining = {},
                 .jobs = {},
                 .next_target = 0,
                 .workers_left = 0,
                 .failure = nullptr,
                 .refids = {}};
  for (const auto& c : options.refid_candidates) report::add_ipv6_refid(st.refids, c);
  // Numeric targets are known now; names join the table as they resolve. Text output, written
  // as each target completes, sees the names resolved by then.
  for (const auto& t : st.targets) report::add_ipv6_refid(st.refids, t.host);
  const auto n = st.targets.size();
  st.reports.resize(n);
  st.endpoints.resize(n);
  st.remaining.assign(n, 0);
  for (std::size_t t = 0; t < n; ++t) {
    st.reports[t].spec = st.targets[t].spec;
    st.reports[t].host = st.targets[t].host;
    st.reports[t].port = st.targets[t].port;
  }
  const auto width = options.concurrency ? options.concurrency : default_concurrency();
  st.workers_left = std::max<std::size_t>(1, std::min(width, n));
  asio::steady_timer all_done(ex, steady::time_point::max());
  const auto spawned = st.workers_left;
  for (std::size_t w = 0; w < spawned; ++w) {
    asio::co_spawn(ex, worker(st), [&](std::exception_ptr e) {
      if (e && !st.failure) st.failure = e;
      if (--st.workers_left == 0) all_done.cancel();
    });
  }
  if (st.workers_left > 0) co_await all_done.async_wait(use_tuple);
  if (st.failure) std::rethrow_exception(st.failure);
  // Targets finished early saw only the addresses resolved by then; the kept reports now see
  // every one.
  for (auto& r : st.reports) report::match_ipv6_refids(r, st.refids);
  co_return std::move(st.reports);
}

std::vector<report::target_report> probe_blocking(std::vector<target> targets,
                                                  const probe_options& options,
                                                  target_done on_done) {
  return detail::run_blocking(probe(std::move(targets), options, std::move(on_done)));
}

}  // namespace ntpkit::net
