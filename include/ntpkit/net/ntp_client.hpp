#pragma once

// The NTP client: proto::ntp_query driven over a timestamping socket for one address, and many
// targets at once through fan_out(). Pacing and Kiss-o'-Death memory span the whole run.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/ntp.hpp"
#include "ntpkit/net/fanout.hpp"
#include "ntpkit/net/pacer.hpp"
#include "ntpkit/net/resolve.hpp"
#include "ntpkit/proto/ntp_query.hpp"

namespace ntpkit::net {

/// How to query one address (proto::ntp_query_plan; its local_precision is filled in here),
/// plus the least time between two requests to one address.
struct query_options : proto::ntp_query_plan {
  std::chrono::milliseconds interval{2000};
  /// Where `key` came from, for the hints a timeout gets (model::key_use).
  std::optional<proto::key_file_format> key_file_format;
  bool key_format_guessed = false;
};

/// Queries `server` (see proto::ntp_query). Never throws for network outcomes: every failure
/// is in the result's error. With `sockets`, uses and gives back a worker's spare socket.
NTPKIT_API asio::awaitable<model::ntp_address> query(udp::endpoint server,
                                                     const query_options& options, pacer& pace,
                                                     socket_pool* sockets = nullptr);

/// How to probe many targets.
struct probe_options {
  query_options query;
  family address_family = family::any;
  std::size_t concurrency = 0;  ///< addresses in flight at once; 0 = default_concurrency()
  /// IPv6 addresses whose refid hash to recognise in replies, besides every IPv6 address the
  /// run itself resolves (a server synchronised to one of them names it by that hash).
  std::vector<std::string> refid_candidates;
  /// False: each target's result is released as soon as on_done has seen it, so that memory
  /// does not grow with the number of targets; probe() then returns empty results.
  bool keep_reports = true;
};

/// Called once per target as soon as all its addresses are done, with the target's index.
using target_done = std::function<void(std::size_t index, const model::ntp_target&)>;

/// Resolves and queries every target; the result keeps the order of `targets`.
NTPKIT_API asio::awaitable<std::vector<model::ntp_target>> probe(std::vector<target> targets,
                                                                 probe_options options,
                                                                 target_done on_done = {});

/// probe() on an io_context of its own, for callers without one.
NTPKIT_API std::vector<model::ntp_target> probe_blocking(std::vector<target> targets,
                                                         const probe_options& options,
                                                         target_done on_done = {});

}  // namespace ntpkit::net
