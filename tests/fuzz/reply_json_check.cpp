#include "reply_json_check.hpp"

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "ntpkit/report/json.hpp"

namespace ntpkit::fuzz {

void check_probe_json(const std::string& text, const model::ntp_run& r) {
  const auto doc = nlohmann::json::parse(text);
  NTPKIT_FUZZ_CHECK(doc.at("schema") == report::probe_schema_version);
  NTPKIT_FUZZ_CHECK(doc.at("ok") == r.ok());
  NTPKIT_FUZZ_CHECK(doc.at("targets").size() == r.targets.size());
  const auto& a = r.targets[0].addresses[0];
  const auto& j = doc.at("targets").at(0).at("addresses").at(0);
  NTPKIT_FUZZ_CHECK(j.at("ok") == a.ok());
  NTPKIT_FUZZ_CHECK(j.at("replies") == a.samples.size());
  NTPKIT_FUZZ_CHECK(j.at("samples").size() == a.samples.size());
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    const auto& s = j.at("samples").at(i);
    NTPKIT_FUZZ_CHECK(s.at("verdict") ==
                      std::string(proto::verdict_name(a.samples[i].assessed.result)));
    NTPKIT_FUZZ_CHECK(s.at("selected") == (a.selected == i));
  }
  NTPKIT_FUZZ_CHECK(j.at("error").is_null() == !a.error);
  if (!a.samples.empty()) {
    const auto& shown = a.selected ? a.best() : a.samples.back();
    NTPKIT_FUZZ_CHECK(j.at("server").at("stratum") == shown.reply.stratum);
  }
}

void check_json_line(const std::string& line) {
  NTPKIT_FUZZ_CHECK(line.find('\n') == line.size() - 1);
  NTPKIT_FUZZ_CHECK(nlohmann::json::parse(line).at("target").is_string());
}

}  // namespace ntpkit::fuzz
