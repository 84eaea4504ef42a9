// ntpkit-query: asks one NTP server for the time through libntpkit and prints, for each of its
// addresses, the offset of its clock from ours, the round-trip delay and its stratum. The
// local clock is only read, never set.
//
//   ntpkit-query HOST[:PORT]      exit 0 when every address answered, 1 if not, 2 on bad usage

#include <cstdio>

#include "ntpkit/net/ntp_client.hpp"
#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/describe.hpp"
#include "ntpkit/version.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s HOST[:PORT]   (libntpkit %s)\n", argv[0],
                 ntpkit::version_string);
    return 2;
  }
  auto target = ntpkit::net::parse_target(argv[1], 123);
  if (!target) {
    std::fprintf(stderr, "%s: %s\n", argv[1], target.error().message().c_str());
    return 2;
  }

  ntpkit::net::probe_options options;  // one request per address, 2 s timeout
  const auto reports = ntpkit::net::probe_blocking({*target}, options);
  const auto& server = reports.front();
  if (server.error) {
    std::printf("%s: %s\n", server.spec.c_str(), ntpkit::report::target_error_text(server).c_str());
    return 1;
  }
  int status = 0;
  for (const auto& address : server.addresses) {
    if (!address.ok()) {
      std::printf("%s: %s\n", address.address.c_str(), ntpkit::report::address_error_text(address).c_str());
      status = 1;
      continue;
    }
    const auto& best = address.best();  // the reply with the least delay
    const auto refid = ntpkit::proto::decode_refid(best.reply.refid, best.reply.stratum);
    std::printf("%s: offset %+.9f s, delay %.9f s, stratum %u, refid %s\n", address.address.c_str(),
                best.measured.offset.to_seconds(), best.measured.delay.to_seconds(),
                static_cast<unsigned>(best.reply.stratum), refid.text.c_str());
  }
  return status;
}
