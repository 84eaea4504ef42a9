// ntpclients: Count an NTP server's clients and measure how fast it answers them, from ntpd's MRU list or packet captures.
// Only --help and --version exist so far; the queries come with their own issues.

#include "../common/cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Count an NTP server's clients and measure how fast it answers them, from ntpd's MRU list or packet captures.", "ntpclients"};
  ntpkit::apps::configure(app);
  if (auto rc = ntpkit::apps::parse(app, argc, argv)) return *rc;
  return ntpkit::apps::usage_error(app, "not implemented yet: only --help and --version work");
}
