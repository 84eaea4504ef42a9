// ntpmon-query: Read an ntpd's state over NTP mode 6 (RFC 9327): system, peer and clock variables, statistics.
// Only --help and --version exist so far; the queries come with their own issues.

#include "../common/cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Read an ntpd's state over NTP mode 6 (RFC 9327): system, peer and clock variables, statistics.", "ntpmon-query"};
  ntpkit::apps::configure(app);
  if (auto rc = ntpkit::apps::parse(app, argc, argv)) return *rc;
  return ntpkit::apps::usage_error(app, "not implemented yet: only --help and --version work");
}
