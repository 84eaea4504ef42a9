#pragma once

// ntpmon-query gps: the GPS receiver behind a stratum 1, read from gpsd's JSON protocol (TCP
// port 2947): ?WATCH, then TPV (fix, time) and SKY (satellites, dilution of precision).

#include <chrono>
#include <optional>
#include <string>

namespace ntpkit::apps {

/// What gpsd reported; empty fields were not sent.
struct gps_report {
  std::string host;
  std::uint16_t port = 2947;
  std::string error;  ///< why nothing (complete) came: connect, timeout, bad JSON; empty if ok
  std::string release;                   ///< VERSION.release
  std::string device, driver;            ///< TPV.device, DEVICES' driver of that device
  std::optional<int> mode;               ///< TPV.mode: 0/1 no fix, 2 2D, 3 3D
  std::string time;                      ///< TPV.time (ISO 8601 UTC)
  std::optional<double> lat, lon, alt_msl, ept;
  std::optional<int> satellites_used;     ///< SKY.uSat, else the satellites marked used
  std::optional<int> satellites_visible;  ///< SKY.nSat, else the satellites listed
  std::optional<double> hdop, vdop, pdop, tdop, gdop;
  int lines = 0;  ///< JSON lines read
};

/// Connects to gpsd at host:port, asks it to watch, and reads until a TPV with a mode and a
/// SKY have arrived, or `timeout` has passed (at most 1 MiB and 1000 lines are read).
gps_report read_gps(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

/// The report as aligned text.
std::string gps_text(const gps_report& r);
/// The report as ntpmon-query's JSON document (command "gps", the `gps` object).
std::string gps_json(const gps_report& r, const std::string& version);

}  // namespace ntpkit::apps
