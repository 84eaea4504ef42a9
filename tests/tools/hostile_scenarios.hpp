#pragma once

// The scenarios of ntpkit-hostile: how a hostile or broken NTP server answers a client
// request, as data. Each row changes the genuine reply (header fields before signing, bytes
// after signing), picks the socket it leaves from, or names one of a few behaviours that are
// not a single reply (silence, replays, floods, a trickle). A new case is one row of
// scenarios() in hostile_scenarios.cpp.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ntpkit/proto/packet.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::hostile {

/// What the responder does with a request, beyond answering it.
enum class behaviour {
  answer,    ///< send the (changed) reply `copies` times
  silent,    ///< send nothing
  replay,    ///< answer the first request; send its reply again to every later one
  flood,     ///< send junk as fast as possible for a while, then the genuine reply if asked
  trickle,   ///< send one junk datagram every 100 ms, for as long as the responder lives
  straddle,  ///< T2 just before the 2036 era boundary (2036-02-07T06:28:16Z), T3 just after
};

/// The socket a reply leaves from.
enum class via {
  main,           ///< the socket the request came in on
  other_port,     ///< same address, another port
  other_address,  ///< another address (--other-address), same port
};

/// One way to answer.
struct scenario {
  std::string_view name;
  std::string_view what;                     ///< one line for --list and docs/robustness.md
  void (*change)(proto::packet&) = nullptr;  ///< header changes, before signing
  void (*wire)(std::vector<std::uint8_t>&) = nullptr;  ///< byte changes, after signing
  behaviour act = behaviour::answer;
  via from = via::main;
  unsigned copies = 1;
  bool sign = true;        ///< with a key: sign the reply (false: send it without a MAC)
  bool other_key = false;  ///< with a key: sign with another key of the key file
  unsigned delay_ms = 0;   ///< hold the reply this long (a server slower than the timeout)
  bool next_era = false;   ///< the server's clock runs just past the 2036 era boundary
};

/// Every scenario, in the order --list prints them.
std::span<const scenario> scenarios() noexcept;

/// The scenario called `name`, or nullptr.
const scenario* find_scenario(std::string_view name) noexcept;

/// 2036-02-07T06:28:16Z, the first instant of NTP era 1, as system time.
inline constexpr proto::sys_nanoseconds era1_start{std::chrono::seconds{2085978496}};

/// The reply a correct server sends to `request`, received at `t2` and sent at `t3` (server
/// clock): mode 4, stratum 2, the request's version (4 if it is not 1..4), its transmit as
/// origin, reference time 16 s before T2, root delay and dispersion of about 1 ms.
proto::packet genuine_reply(const proto::packet& request, proto::sys_nanoseconds t2,
                            proto::sys_nanoseconds t3);

/// A junk datagram, number `i` of a flood or trickle to a client that sent `request`: in turn
/// a server reply with a foreign origin, a truncated datagram and one of odd length.
std::vector<std::uint8_t> junk(const proto::packet& request, std::size_t i);

}  // namespace ntpkit::hostile
