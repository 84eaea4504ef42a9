#pragma once

// ntpclients' writers (issue 14) other than JSON (json.hpp) and the plot (svg.hpp): the human
// report, CSV with one row per interval, Prometheus metrics (counters and the delta-time
// histogram) and the plugin verdict with thresholds on clients, packet rate, response time and
// unanswered requests. Every writer takes a model::clients_run and leaves out what its source
// could not know.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ntpkit/export.hpp"
#include "ntpkit/model/clients.hpp"
#include "ntpkit/report/plugin.hpp"
#include "ntpkit/report/prometheus.hpp"

namespace ntpkit::report {

/// The human report: the input, the clients and their split, packets and peak rate, the
/// answers with the delta time, Kiss-o'-Death codes, the intervals, the top talkers and the
/// slowest answers (with file and frame numbers). `verbose` adds the delta-time and
/// processing-time histograms and every frame count, zero or not.
NTPKIT_API std::string census_text(const model::clients_run& r, bool verbose);

/// A duration for people: "850 ns", "45.2 us", "1.25 ms", "2.500 s".
NTPKIT_API std::string human_duration(std::chrono::nanoseconds d);

/// The libpcap name of a link type ("EN10MB", "LINUX_SLL2", "RAW") or "linktype N".
NTPKIT_API std::string link_type_name(std::uint32_t link_type);

/// The CSV header line (ending in "\n"); columns as census_csv_rows writes them.
NTPKIT_API std::string census_csv_header();

/// One CSV row per interval (RFC 4180, "\n" line ends): start as ISO 8601 and Unix seconds,
/// clients, their families, control clients, packets, requests, responses, peak packets/s,
/// matched answers and the delta and processing summaries in seconds (empty when the interval
/// had no matched answer).
NTPKIT_API std::string census_csv_rows(const model::clients_run& r);

/// The run as Prometheus metrics, every family prefixed `ntpkit_clients_`: gauges for the
/// distinct clients (overall and by family), control clients, fast clients and the peak rate;
/// counters for packets (by direction, version and mode), frames by outcome, answers by
/// outcome and Kiss-o'-Death codes; histograms of the delta time and of the server's
/// processing time in seconds. `labels` is added to every series (e.g. {"source", "eth0"}).
NTPKIT_API std::string census_prometheus(const model::clients_run& r, const prometheus_meta& meta,
                                         const label_set& labels = {});

/// Which delta-time figure the response-time thresholds judge.
enum class response_figure { median, p90, p99, max };

/// "median", "p90", "p99", "max".
NTPKIT_API std::string_view response_figure_name(response_figure f) noexcept;

/// Thresholds of ntpclients' plugin mode.
struct census_policy {
  thresholds clients;     ///< distinct clients
  thresholds rate;        ///< peak packets per second
  thresholds response;    ///< delta time in seconds (`figure`)
  thresholds unanswered;  ///< unanswered requests, percent of the requests
  response_figure figure = response_figure::p99;
  /// No NTP datagram in the input is CRITICAL instead of UNKNOWN.
  bool no_traffic_critical = false;
};

/// The plugin verdict: "NTPCLIENTS OK: 1234 clients, peak 56 packets/s, response p99 310 us,
/// 0.2% unanswered | clients=1234;... rate=56;... response_p99=0.000310s;... unanswered=0.2%;..."
/// An input that could not be read whole is at least WARNING; no NTP traffic is UNKNOWN.
NTPKIT_API plugin_output census_plugin(const model::clients_run& r, const census_policy& policy);

}  // namespace ntpkit::report
