#include "ntpkit/net/nts_ke_client.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../proto/crypto.hpp"
#include "../proto/dotted_quad.hpp"
#include "ntpkit/net/drive.hpp"
#include "ntpkit/net/fanout.hpp"
#include "ntpkit/net/timestamping_socket.hpp"
#include "nts_tls.hpp"
#include "run.hpp"

namespace ntpkit::net {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using steady = std::chrono::steady_clock;
using model::error_cause;
using model::nts_step;

std::string address_text(const asio::ip::address& address) {
  return address.is_v4() ? proto::detail::dotted_quad(address.to_v4().to_bytes())
                         : address.to_string();
}

model::family family_of(const asio::ip::address& a) {
  return a.is_v6() ? model::family::ipv6 : model::family::ipv4;
}

proto::sys_nanoseconds system_now() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

asio::awaitable<model::error_info> connect(tcp::socket& sock, const tcp::endpoint& server,
                                           std::chrono::milliseconds timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto done = co_await (sock.async_connect(server, use_tuple) || timer.async_wait(use_tuple));
  if (done.index() == 1) {
    auto e = model::failure(model::error_kind::nts, error_cause::nts_ke_timeout);
    e.waited = timeout;
    e.detail = "connect";
    co_return e;
  }
  if (auto [ec] = std::get<0>(done); ec) {
    auto e = model::failure(model::error_kind::nts, error_cause::nts_ke_unreachable);
    e.code = ec;
    co_return e;
  }
  co_return model::error_info{};
}

// Runs an NTS-KE session over the TLS stream: the stream counterpart of drive().
asio::awaitable<void> exchange(proto::nts_ke_session& ke, detail::tls_client& tls,
                               tcp::socket& sock) {
  std::array<std::uint8_t, 4096> buffer;
  for (;;) {
    auto action = ke.next(steady::now());
    if (std::holds_alternative<proto::finished>(action)) co_return;
    if (auto* out = std::get_if<proto::send_bytes>(&action)) {
      auto written = co_await tls.write(sock, out->bytes, steady::now() + ke.plan().timeout);
      if (!written) {
        ke.on_send_failed(written.error());
      } else {
        ke.on_sent({out->tag, system_now(), proto::time_source::user, steady::now()});
      }
      continue;
    }
    const auto deadline = std::get<proto::wait_until>(action).deadline;
    auto n = co_await tls.read(sock, buffer, deadline);
    if (!n) {
      if (n.error() != std::errc::timed_out) ke.on_transport_error(n.error());
    } else if (*n == 0) {
      ke.on_end_of_stream();
    } else {
      ke.on_bytes(std::span<const std::uint8_t>(buffer.data(), *n));
    }
  }
}

void take_tls_facts(model::nts_info& info, const model::nts_info& tls) {
  info.server_name = tls.server_name;
  info.tls_version = tls.tls_version;
  info.tls_cipher = tls.tls_cipher;
  info.alpn = tls.alpn;
  info.certificate = tls.certificate;
  info.verify_result = tls.verify_result;
  info.handshake_at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  if (info.certificate)
    info.certificate_remaining = info.certificate->not_after - info.handshake_at;
}

bool is_certificate_cause(error_cause c) {
  return c == error_cause::certificate_untrusted || c == error_cause::certificate_expired ||
         c == error_cause::certificate_not_yet_valid || c == error_cause::certificate_wrong_name;
}

// The C2S and S2C keys of RFC 8915 §5.1 for the negotiated AEAD.
result<proto::nts_keys> export_keys(detail::tls_client& tls, proto::aead_algorithm aead) {
  const auto id = static_cast<std::uint16_t>(aead);
  const auto size = proto::aead_key_size(aead);
  const auto c2s_context = proto::nts_exporter_context(proto::nts_next_protocol_ntpv4, id,
                                                       proto::nts_key_direction::c2s);
  const auto s2c_context = proto::nts_exporter_context(proto::nts_next_protocol_ntpv4, id,
                                                       proto::nts_key_direction::s2c);
  auto c2s = tls.export_key(proto::nts_exporter_label, c2s_context, size);
  auto s2c = tls.export_key(proto::nts_exporter_label, s2c_context, size);
  if (!c2s) return c2s.error();
  if (!s2c) return s2c.error();
  return proto::nts_keys{aead, std::move(*c2s), std::move(*s2c)};
}

}  // namespace

asio::awaitable<nts_ke_result> key_exchange(tcp::endpoint server, std::string host,
                                            const nts_ke_options& o) {
  nts_ke_result r;
  r.info.ke_address = address_text(server.address());
  r.info.ke_port = server.port();
  // Load libssl first, so that no step's time includes loading it (the first --nts of a
  // process: a few milliseconds).
  (void)proto::detail::ssl();
  const auto started = steady::now();
  auto fail = [&](model::error_info e, nts_step step) {
    r.error = std::move(e);
    r.info.failed_step = step;
    r.info.ke_time = steady::now() - started;
    return std::move(r);
  };
  tcp::socket sock(co_await asio::this_coro::executor);
  if (auto e = co_await connect(sock, server, o.connect_timeout); e) {
    co_return fail(std::move(e), nts_step::connect);
  }
  const auto connected = steady::now();
  r.info.connect_time = connected - started;
  detail::tls_client tls;
  if (auto e = tls.setup(sock, o.server_name.empty() ? host : o.server_name, o.ca_file); e) {
    co_return fail(std::move(e), nts_step::tls_handshake);
  }
  // The handshake is timed from here: the CA store is loaded, the ClientHello not yet sent.
  const auto ready = steady::now();
  auto shaken = co_await tls.handshake(sock, ready + o.handshake_timeout, o.handshake_timeout);
  take_tls_facts(r.info, tls.facts());
  const auto handshaken = steady::now();
  r.info.handshake_time = handshaken - ready;
  if (shaken) {
    const auto step =
        is_certificate_cause(shaken.cause) ? nts_step::certificate : nts_step::tls_handshake;
    co_return fail(std::move(shaken), step);
  }
  proto::nts_ke_session ke(o.exchange);
  co_await exchange(ke, tls, sock);
  auto outcome = ke.take_outcome();
  model::take_nts_ke_outcome(r.info, outcome);
  r.info.exchange_time = steady::now() - handshaken;
  if (auto e = model::nts_ke_error(outcome, o.exchange.timeout); e) {
    tls.close();
    co_return fail(std::move(e), nts_step::key_exchange);
  }
  auto keys = export_keys(tls, *outcome.response.aead());
  tls.close();
  if (!keys) {
    auto e = model::failure(model::error_kind::nts, error_cause::nts_keys_failed);
    e.code = keys.error();
    co_return fail(std::move(e), nts_step::key_exchange);
  }
  r.info.ke_time = steady::now() - started;
  r.plan = proto::nts_plan{std::move(*keys), std::move(outcome.response.cookies), 8};
  co_return r;
}

namespace {

// RFC 8915 §4.1.7, §4.1.8: the server and port NTP goes to. A handed-out name is resolved,
// and an address of the NTS-KE server's family preferred.
asio::awaitable<result<udp::endpoint>> ntp_server_of(const model::nts_info& info,
                                                     const tcp::endpoint& ke_server, family f) {
  const std::uint16_t port = info.ntp_port.value_or(123);
  if (!info.ntp_server) co_return udp::endpoint(ke_server.address(), port);
  // A named target: GCC 12 destroys a temporary in a co_await expression twice.
  const target name{*info.ntp_server, *info.ntp_server, port};
  auto eps = co_await resolve(name, f);
  if (!eps) co_return eps.error();
  for (const auto& e : *eps) {
    if (e.address().is_v6() == ke_server.address().is_v6()) co_return e;
  }
  co_return eps->front();
}

// The NTS-protected NTP part of query_nts(), into `a` (whose nts is set).
asio::awaitable<void> query_ntp(model::ntp_address& a, const udp::endpoint& server,
                                proto::nts_plan plan, const query_options& o, pacer& pace) {
  if (const auto* code = pace.kiss_of(server)) {
    auto e = model::failure(model::error_kind::kiss, error_cause::kissed_earlier);
    e.kiss_code = *code;
    model::conclude(a, e);
    co_return;
  }
  auto sock = timestamping_socket::open(co_await asio::this_coro::executor, server.protocol());
  if (!sock) {
    auto e = model::failure(model::error_kind::network, error_cause::socket_failed);
    e.code = sock.error();
    model::conclude(a, e);
    co_return;
  }
  proto::ntp_query_plan p = o;
  p.key.reset();
  p.nts = std::move(plan);
  p.local_precision = local_precision();
  proto::ntp_query session(std::move(p), [] { return random_bits(); });
  co_await drive(session, *sock, server, pacing_gate(pace));
  auto outcome = session.take_outcome();
  // A NAK says our cookies are unusable, not that the address wants no more requests.
  if (outcome.end == proto::ntp_query_end::kissed && outcome.kiss_code != "NTSN") {
    pace.kissed(server, outcome.kiss_code);
  }
  model::take_outcome(a, std::move(outcome), o.timeout);
}

}  // namespace

asio::awaitable<model::ntp_address> query_nts(tcp::endpoint ke_server, std::string host,
                                              const nts_query_options& o, pacer& pace) {
  model::ntp_address a;
  a.locate(address_text(ke_server.address()), ke_server.port(), family_of(ke_server.address()));
  auto ke = co_await key_exchange(ke_server, host, o.ke);
  a.nts = std::move(ke.info);
  if (ke.error) {
    model::conclude(a, ke.error);
    co_return a;
  }
  auto server = co_await ntp_server_of(*a.nts, ke_server, o.address_family);
  if (!server) {
    auto e = model::failure(model::error_kind::nts, error_cause::nts_server_unresolved);
    e.code = server.error();
    e.detail = a.nts->ntp_server.value_or("");
    a.nts->failed_step = nts_step::ntp_resolve;
    model::conclude(a, e);
    co_return a;
  }
  a.nts->ntp_address = address_text(server->address());
  a.nts->ntp_port_used = server->port();
  co_await query_ntp(a, *server, std::move(*ke.plan), o.ntp, pace);
  co_return a;
}

model::ntp_address query_nts_blocking(tcp::endpoint ke_server, std::string host,
                                      const nts_query_options& options) {
  pacer pace(options.ntp.interval);
  return detail::run_blocking(query_nts(std::move(ke_server), std::move(host), options, pace));
}

asio::awaitable<std::vector<model::ntp_target>> probe_nts(std::vector<target> targets,
                                                          nts_query_options options,
                                                          std::size_t concurrency,
                                                          target_done on_done) {
  std::vector<model::ntp_target> results(targets.size());
  for (std::size_t t = 0; t < targets.size(); ++t) {
    results[t].spec = targets[t].spec;
    results[t].host = targets[t].host;
    results[t].port = targets[t].port;
  }
  pacer pace(options.ntp.interval);
  fanout_hooks hooks;
  hooks.resolved = [&](std::size_t t, const result<std::vector<udp::endpoint>>& eps) {
    if (!eps) {
      results[t].error = resolve_error(eps.error(), options.address_family);
      return;
    }
    results[t].addresses.resize(eps->size());
  };
  hooks.query = [&](std::size_t t, std::size_t i, const udp::endpoint& server,
                    socket_pool&) -> asio::awaitable<void> {
    const tcp::endpoint ke(server.address(), server.port());
    results[t].addresses[i] = co_await query_nts(ke, targets[t].host, options, pace);
  };
  hooks.target_done = [&](std::size_t t) {
    if (on_done) on_done(t, results[t]);
  };
  co_await fan_out(targets, {options.address_family, concurrency}, hooks);
  co_return results;
}

}  // namespace ntpkit::net
