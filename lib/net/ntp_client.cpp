#include "ntpkit/net/ntp_client.hpp"

#include <boost/asio/this_coro.hpp>

#include "../proto/dotted_quad.hpp"
#include "ntpkit/net/drive.hpp"
#include "ntpkit/net/timestamping_socket.hpp"
#include "run.hpp"

namespace ntpkit::net {
namespace {

// An address as text; IPv4 by hand (see proto/dotted_quad.hpp).
std::string address_text(const asio::ip::address& address) {
  return address.is_v4() ? proto::detail::dotted_quad(address.to_v4().to_bytes())
                         : address.to_string();
}

model::error_info kissed_earlier(const std::string& code) {
  auto e = model::failure(model::error_kind::kiss, model::error_cause::kissed_earlier);
  e.kiss_code = code;
  return e;
}

}  // namespace

asio::awaitable<model::ntp_address> query(udp::endpoint server, const query_options& o,
                                          pacer& pace, socket_pool* sockets) {
  model::ntp_address a;
  a.locate(address_text(server.address()), server.port(),
           server.address().is_v6() ? model::family::ipv6 : model::family::ipv4);
  if (const auto* code = pace.kiss_of(server)) {
    model::conclude(a, kissed_earlier(*code));
    co_return a;
  }
  std::vector<udp::endpoint> silent;  // servers asked before on a reused socket
  // Two statements, not co_await inside ?: (GCC 12 destroys that temporary twice).
  result<timestamping_socket> sock = std::make_error_code(std::errc::bad_file_descriptor);
  if (sockets) {
    sock = co_await sockets->take(server, silent);
  } else {
    sock = timestamping_socket::open(co_await asio::this_coro::executor, server.protocol());
  }
  if (!sock) {
    auto e = model::failure(model::error_kind::network, model::error_cause::socket_failed);
    e.code = sock.error();
    model::conclude(a, e);
    co_return a;
  }
  if (o.key) {
    const auto alg = o.key->algorithm();
    a.key = model::key_use{o.key->id(), alg, proto::wire_digest_size(alg, o.mac.length),
                           proto::version_for_mac(alg, o.mac, o.version), o.key_file_format,
                           o.key_format_guessed};
  }
  proto::ntp_query_plan plan = o;
  plan.local_precision = local_precision();
  proto::ntp_query session(std::move(plan), [] { return random_bits(); });
  co_await drive(session, *sock, server, pacing_gate(pace), silent);
  auto outcome = session.take_outcome();
  if (outcome.end == proto::ntp_query_end::kissed) pace.kissed(server, outcome.kiss_code);
  if (sockets && outcome.clean) sockets->give_back(std::move(*sock), server, std::move(silent));
  model::take_outcome(a, std::move(outcome), o.timeout);
  co_return a;
}

asio::awaitable<std::vector<model::ntp_target>> probe(std::vector<target> targets,
                                                      probe_options options,
                                                      target_done on_done) {
  const auto n = targets.size();
  std::vector<model::ntp_target> results(n);
  pacer pace(options.query.interval);
  model::ipv6_refid_table refids;  // the candidates and every IPv6 address resolved so far
  for (const auto& c : options.refid_candidates) model::add_ipv6_refid(refids, c);
  // Numeric targets are known now; names join the table as they resolve. Text output, written
  // as each target completes, sees the names resolved by then.
  for (const auto& t : targets) model::add_ipv6_refid(refids, t.host);
  for (std::size_t t = 0; t < n; ++t) {
    results[t].spec = targets[t].spec;
    results[t].host = targets[t].host;
    results[t].port = targets[t].port;
  }
  fanout_hooks hooks;
  hooks.resolved = [&](std::size_t t, const result<std::vector<udp::endpoint>>& eps) {
    if (!eps) {
      results[t].error = resolve_error(eps.error(), options.address_family);
      results[t].error.origin = targets[t].origin;
      return;
    }
    for (const auto& e : *eps) {
      if (e.address().is_v6()) model::add_ipv6_refid(refids, e.address().to_string());
    }
    results[t].addresses.resize(eps->size());
  };
  hooks.query = [&](std::size_t t, std::size_t i, const udp::endpoint& server,
                    socket_pool& sockets) -> asio::awaitable<void> {
    results[t].addresses[i] = co_await query(server, options.query, pace, &sockets);
  };
  hooks.target_done = [&](std::size_t t) {
    model::match_ipv6_refids(results[t], refids);
    if (on_done) on_done(t, results[t]);
    if (!options.keep_reports) results[t] = {};
  };
  co_await fan_out(targets, {options.address_family, options.concurrency}, hooks);
  // Targets finished early saw only the addresses resolved by then; the kept results now see
  // every one.
  for (auto& r : results) model::match_ipv6_refids(r, refids);
  co_return results;
}

std::vector<model::ntp_target> probe_blocking(std::vector<target> targets,
                                              const probe_options& options,
                                              target_done on_done) {
  return detail::run_blocking(probe(std::move(targets), options, std::move(on_done)));
}

}  // namespace ntpkit::net
