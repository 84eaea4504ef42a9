#pragma once

// Plugin-mode threshold options shared by the programs: a range option's text read into a
// report::nagios_range, with the one-line message a bad one gets.

#include <optional>
#include <string>

#include "ntpkit/report/format.hpp"
#include "ntpkit/report/plugin.hpp"

namespace ntpkit::apps {

/// Parses the text of range option `flag` into `into` (left unset when `text` is empty);
/// returns the error message, or empty.
inline std::string set_range(const std::string& flag, const std::string& text,
                             std::optional<report::nagios_range>& into) {
  if (text.empty()) return {};
  auto r = report::parse_nagios_range(text);
  if (!r) {
    return flag + ": '" + report::printable(text) +
           "' is not a range ([@][START:][END], START may be ~)";
  }
  into = std::move(*r);
  return {};
}

}  // namespace ntpkit::apps
