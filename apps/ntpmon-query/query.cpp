#include "query.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <charconv>
#include <cstring>

#include "../common/output.hpp"
#include "ntpkit/net/resolve.hpp"
#include "ntpkit/proto/control_vars.hpp"

namespace ntpkit::apps {
namespace {

namespace asio = boost::asio;
using proto::control_opcode;

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// A READVAR or READCLOCK for `names` (all the server's defaults when empty); a list the
// server partly refuses is asked name by name.
asio::awaitable<model::control_read> read_variables(net::control_client& c, control_opcode op,
                                                    std::uint16_t assoc,
                                                    const std::vector<std::string>& names) {
  auto data = proto::build_variable_request(names);
  if (!data) {
    model::control_read r;
    r.opcode = op;
    r.association_id = assoc;
    r.outcome = proto::control_outcome::bad_request;
    r.error = data.error();
    co_return r;
  }
  const auto policy = names.size() > 1 ? proto::unknown_variable_policy::ask_each
                                       : proto::unknown_variable_policy::fail;
  auto q = co_await c.request(op, assoc, bytes_of(*data), policy);
  co_return model::take_read(op, assoc, q, c.signs());
}

asio::awaitable<model::control_read> read_associations(net::control_client& c) {
  auto q = co_await c.request(control_opcode::read_status, 0);
  auto r = model::take_read(control_opcode::read_status, 0, q, c.signs());
  model::take_association_list(r, q.response);
  // In ascending association id, as ntpq lists them (NTPsec sends the newest first).
  std::sort(r.associations.begin(), r.associations.end(),
            [](const auto& a, const auto& b) { return a.association_id < b.association_id; });
  co_return r;
}

bool shown_by_peers(std::uint16_t status) noexcept {
  // ntpq -p lists configured or reachable associations only (CTL_PST_CONFIG, CTL_PST_REACH).
  return (status & 0x8000) || (status & 0x1000);
}

std::optional<std::uint16_t> association_arg(const std::string& s) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v == 0 || v > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(v);
}

asio::awaitable<void> run_command(const monitor_plan& p, net::control_client& c,
                                  model::control_run& run) {
  if (p.command == "sysvars") {
    run.reads.push_back(co_await read_variables(c, control_opcode::read_variables, 0, p.args));
  } else if (auto names = stats_variables(p.command); !names.empty()) {
    // One READVAR per run of names that fits a datagram (ntpq splits sysstats in two too).
    for (const auto& run_names : proto::pack_variable_requests(names)) {
      run.reads.push_back(
          co_await read_variables(c, control_opcode::read_variables, 0, run_names));
      if (!run.reads.back().ok()) break;
    }
  } else if (p.command == "associations") {
    run.reads.push_back(co_await read_associations(c));
  } else if (p.command == "peers") {
    run.reads.push_back(co_await read_associations(c));
    if (!run.reads.back().ok()) co_return;
    const auto list = run.reads.back().associations;
    for (const auto& a : list) {
      if (!shown_by_peers(a.status)) continue;
      auto r = co_await read_variables(c, control_opcode::read_variables, a.association_id, {});
      if (r.ok()) {
        // The tally comes from the status word of the READVAR answer, as ntpq takes it.
        run.peers.push_back(model::summarize_peer(a.association_id, r.status, r.variables,
                                                  now_date().to_timestamp()));
        if (!p.numeric && run.peers.back().remote == run.peers.back().srcadr) {
          run.peers.back().remote = reverse_name(run.peers.back().srcadr);
        }
      }
      run.reads.push_back(std::move(r));
    }
  } else {
    const auto op = p.command == "clockvars" ? control_opcode::read_clock
                                             : control_opcode::read_variables;
    std::vector<std::string> names(p.args.size() > 1 ? p.args.begin() + 1 : p.args.end(),
                                   p.args.end());
    if (!p.args.empty() && p.args[0] != "all") {
      run.reads.push_back(co_await read_variables(c, op, *association_arg(p.args[0]), names));
      co_return;
    }
    run.reads.push_back(co_await read_associations(c));
    if (!run.reads.back().ok()) co_return;
    const auto list = run.reads.back().associations;
    for (const auto& a : list) {
      auto r = co_await read_variables(c, op, a.association_id, names);
      // Every association, for clockvars: those that are no reference clock answer BADASSOC
      // and are left out.
      if (op == control_opcode::read_clock && r.server_error == proto::control_error::unknown_association) {
        continue;
      }
      run.reads.push_back(std::move(r));
    }
  }
}

asio::awaitable<model::control_run> monitor(monitor_plan p) {
  model::control_run run;
  run.command = p.command;
  run.host = p.host;
  run.port = p.port;
  net::target t;
  t.spec = p.host;
  t.host = p.host;
  t.port = p.port;
  auto eps = co_await net::resolve(t, p.address_family);
  if (!eps || eps->empty()) {
    run.resolve_error = eps ? "no address" : eps.error().message();
    co_return run;
  }
  const auto server = eps->front();
  run.address = server.address().to_string();
  auto client = net::control_client::open(co_await asio::this_coro::executor, server, p.client);
  if (!client) {
    run.resolve_error = "cannot open a socket: " + client.error().message();
    co_return run;
  }
  co_await run_command(p, *client, run);
  co_return run;
}

}  // namespace

std::vector<std::string> stats_variables(const std::string& command) {
  if (command == "sysstats") {
    return {"ss_uptime", "ss_numctlreq", "ss_reset", "ss_received", "ss_thisver", "ss_oldver",
            "ss_ver1", "ss_ver1client", "ss_ver1zero", "ss_ver1symm", "ss_badformat",
            "ss_badauth", "ss_declined", "ss_restricted", "ss_limited", "ss_kodsent",
            "ss_processed"};
  }
  if (command == "iostats") {
    return {"iostats_reset", "total_rbuf", "free_rbuf", "used_rbuf", "rbuf_lowater",
            "io_dropped", "io_ignored", "io_received", "io_sent", "io_sendfailed", "io_wakeups",
            "io_goodwakeups"};
  }
  if (command == "monstats") {
    return {"mru_enabled", "mru_hashslots", "mru_depth", "mru_deepest", "mru_maxdepth",
            "mru_mindepth", "mru_maxage", "mru_minage", "mru_mem", "mru_maxmem", "mru_exists",
            "mru_new", "mru_recycleold", "mru_recyclefull", "mru_none", "mru_oldest_age"};
  }
  if (command == "authinfo") {
    return {"authreset", "authkeys", "authfreek", "authklookups", "authknotfound",
            "authencrypts", "authdigestencrypts", "authcmacencrypts", "authdecrypts",
            "authdigestdecrypts", "authdigestfails", "authcmacdecrypts", "authcmacfails",
            "authkuncached", "authkexpired"};
  }
  if (command == "kerninfo") {
    return {"koffset", "kfreq", "kmaxerr", "kesterr", "kstflags", "ktimeconst", "kprecis",
            "kfreqtol", "kppsfreq", "kppsstab", "kppsjitter", "kppscalibdur", "kppscalibs",
            "kppsjitexc", "kppsstbexc", "kppscaliberrs"};
  }
  return {};
}

std::string canonical_command(const std::string& w) {
  if (!stats_variables(w).empty() || w == "gps") return w;
  if (w == "sysvars" || w == "rv" || w == "readvar") return "sysvars";
  if (w == "peers" || w == "pe") return "peers";
  if (w == "associations" || w == "as") return "associations";
  if (w == "peervars") return "peervars";
  if (w == "clockvars" || w == "cv") return "clockvars";
  return {};
}

std::string reverse_name(const std::string& address) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    len = sizeof *v6;
  } else {
    return address;
  }
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0,
                    NI_NAMEREQD) != 0) {
    return address;
  }
  std::string name(host);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return name;
}

std::optional<net::udp::endpoint> resolve_first(const net::target& t, net::family f) {
  asio::io_context io;
  std::optional<net::udp::endpoint> out;
  auto task = [](net::target t, net::family f) -> asio::awaitable<std::optional<net::udp::endpoint>> {
    auto eps = co_await net::resolve(t, f);
    if (!eps || eps->empty()) co_return std::nullopt;
    co_return eps->front();
  };
  asio::co_spawn(io, task(t, f), [&](std::exception_ptr, std::optional<net::udp::endpoint> e) {
    out = e;
  });
  io.run();
  return out;
}

model::control_run run_monitor(const monitor_plan& plan) {
  asio::io_context io;
  model::control_run out;
  std::exception_ptr failure;
  asio::co_spawn(io, monitor(plan), [&](std::exception_ptr e, model::control_run r) {
    failure = e;
    out = std::move(r);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace ntpkit::apps
