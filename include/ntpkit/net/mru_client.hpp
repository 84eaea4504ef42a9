#pragma once

// ntpd's MRU list read over the network: proto::mru_walk (REQ_NONCE, then READ_MRU batches
// continuing from the entries seen, adapting as ntpq does) driven over one UDP socket.

#include <boost/asio/awaitable.hpp>

#include "ntpkit/export.hpp"
#include "ntpkit/net/timestamping_socket.hpp"
#include "ntpkit/proto/mru.hpp"

namespace ntpkit::net {

/// Walks the MRU list of the ntpd at `server` until the walk ends (proto/mru.hpp says how and
/// within which bounds). A socket that cannot be opened ends it as transport_error.
NTPKIT_API asio::awaitable<proto::mru_walk_result> walk_mru(udp::endpoint server,
                                                            proto::mru_walk_options options);

}  // namespace ntpkit::net
