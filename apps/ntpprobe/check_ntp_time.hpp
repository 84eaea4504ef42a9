#pragma once

namespace ntpkit::apps {

/// ntpprobe invoked as check_ntp_time: the options, output and exit codes of the
/// monitoring-plugins check_ntp_time (2.3.x), on ntpkit's client. Deliberate differences are
/// listed in ntpprobe(1).
int check_ntp_time_main(int argc, char** argv);

}  // namespace ntpkit::apps
