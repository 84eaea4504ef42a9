#pragma once

// The census engine (issue 14): fed decoded frames with their capture times, it counts a
// server's clients, packets and rates per interval and overall, its Kiss-o'-Death answers,
// and matches each request to its response for the delta time. Pure: no clock, no file,
// no libpcap; the result is a model::census_result.
//
// Who is who. A datagram to the server port (census_options::server_port, default 123;
// and, when server_addresses is set, to one of those addresses) is a request; one from it is
// a response. A client is the source address of a mode 3 (or symmetric mode 1/2) request;
// senders of mode 6/7 requests are control clients, counted apart; a request from port 0,
// from a multicast, broadcast or unspecified address, or from the server's own address
// (the destination itself unless it is a loopback address, or one of server_addresses) is a
// spoofed-looking source, counted apart and never a client.
//
// Matching. A mode 4 response is matched to the mode 3 request with the reversed addresses
// and ports whose transmit timestamp equals the response's origin (stricter than Wireshark's
// "latest request in the conversation", which mismatches on retries and loss). At most
// census_options::max_outstanding requests are tracked at once, in arrival order; a request
// is retired twice the response timeout after it came (unanswered if no answer came), or
// earlier when the bound is reached (dropped if unanswered: its answer will then be
// unmatched). An answer within the timeout is matched (its delta and T3 - T2 go into the
// statistics), one after it is late; a second answer is a duplicate while its request is
// among the last 4096 answered (unmatched after that); an answer to no tracked request is
// unmatched.
//
// Memory. Exact counts in memory proportional to the distinct clients: each client costs
// one census_client slot in a dense array plus its index slot (capture/flows.cpp states the
// bytes; census_result::client_table_bytes measures them); the outstanding table costs at
// most max_outstanding × (table slot + queue entry).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ntpkit/capture/frame.hpp"
#include "ntpkit/export.hpp"
#include "ntpkit/model/census.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::capture {

/// What the census counts and how.
struct census_options {
  std::uint16_t server_port = 123;                  ///< the NTP port (`--port`)
  std::vector<model::ip_address> server_addresses;  ///< empty: any address on the port
  std::chrono::nanoseconds interval = std::chrono::minutes(5);
  /// A request unanswered this long is waited for only as long again (late answers).
  std::chrono::nanoseconds response_timeout = std::chrono::seconds(5);
  std::size_t max_outstanding = std::size_t{1} << 20;  ///< requests waiting for an answer
  std::size_t top = 10;                                ///< top talkers kept in the result
  std::size_t slowest = 10;                            ///< slowest answers kept in the result
  /// Clients whose median request interval is shorter are fast: ntpd's default `discard
  /// average 3` (2^3 s).
  std::chrono::nanoseconds rate_limit = std::chrono::seconds(8);
  decode_options decode;
};

/// Where a frame came from, for the slowest-answers list.
struct frame_ref {
  std::uint32_t file = 0;    ///< index of the input file
  std::uint64_t number = 0;  ///< frame number in the file, from 1
};

/// The census. Not copyable (its tables are large); movable.
class NTPKIT_API census {
 public:
  explicit census(census_options options = {});
  ~census();
  census(census&&) noexcept;
  census& operator=(census&&) noexcept;

  /// Decodes one captured frame and counts it: its decode outcome, and if it is a UDP
  /// datagram to or from the server port, its NTP classification and the datagram itself.
  /// Times should come in (roughly) increasing order: intervals and waiting requests
  /// advance with them; a datagram earlier than the interval under way counts in that one.
  void add_frame(proto::sys_nanoseconds time, std::uint32_t link_type,
                 std::span<const std::uint8_t> bytes, frame_ref ref = {});

  /// Counts one already decoded frame (add_frame without the decoding).
  void add_decoded(proto::sys_nanoseconds time, const decoded_frame& frame, frame_ref ref = {});

  /// Requests now waiting for an answer.
  std::size_t outstanding() const noexcept;
  /// Distinct clients so far.
  std::size_t clients() const noexcept;

  /// The result so far: intervals closed, requests still waiting counted as pending (or as
  /// unanswered when they waited twice the timeout before the last datagram). The census
  /// can go on after it.
  model::census_result result() const;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace ntpkit::capture
