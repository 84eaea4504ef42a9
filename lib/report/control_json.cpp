// ntpmon-query's JSON (docs/json.md, docs/ntpmon-query.schema.json): every read with its
// status word decoded and every variable as {name, raw, type, value[, unit]}.

#include <nlohmann/json.hpp>

#include "ntpkit/proto/refclock.hpp"
#include "ntpkit/report/control.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

using nlohmann::ordered_json;

ordered_json value_json(const model::typed_value& t) {
  switch (t.type) {
    case model::value_type::none: return nullptr;
    case model::value_type::integer: return t.integer;
    case model::value_type::number: return t.number;
    case model::value_type::timestamp: {
      ordered_json j{{"ntp", ntp_hex(t.ntp_time)}, {"iso", nullptr}};
      if (!t.ntp_time.is_zero()) {
        // ntpd's own timestamps are of now: placed in the era of the pivot 1970..2106.
        j["iso"] = iso8601(proto::to_sys_time(t.ntp_time));
      }
      return j;
    }
    case model::value_type::text: return t.text;
    case model::value_type::numbers: {
      ordered_json a = ordered_json::array();
      for (const auto& n : t.numbers) a.push_back(n ? ordered_json(*n) : ordered_json(nullptr));
      return a;
    }
  }
  return nullptr;
}

ordered_json variables_json(const proto::variable_list& vars) {
  ordered_json a = ordered_json::array();
  for (const auto& [name, v] : vars) {
    const auto t = model::read_value(name, v);
    ordered_json j{{"name", name},
                   {"raw", v.present() ? ordered_json(std::string(v.raw())) : ordered_json(nullptr)},
                   {"type", model::value_type_name(t.type)},
                   {"value", value_json(t)}};
    if (!t.unit.empty()) j["unit"] = t.unit;
    a.push_back(std::move(j));
  }
  return a;
}

ordered_json peer_status_json(std::uint16_t word) {
  const auto s = proto::decode_peer_status(word);
  return {{"word", word},
          {"configured", s.configured},
          {"auth_enabled", s.auth_enabled},
          {"authentic", s.authentic},
          {"reachable", s.reachable},
          {"broadcast", s.broadcast},
          {"selection", proto::to_string(s.selection)},
          {"tally", std::string(1, proto::tally_code(s.selection))},
          {"event_count", s.event_count},
          {"last_event", proto::to_string(s.last_event)},
          {"text", peer_status_text(word)}};
}

ordered_json system_status_json(std::uint16_t word) {
  const auto s = proto::decode_system_status(word);
  return {{"word", word},
          {"leap", static_cast<int>(s.leap)},
          {"leap_name", leap_name(s.leap)},
          {"clock_source", proto::to_string(s.source)},
          {"event_count", s.event_count},
          {"last_event", proto::to_string(s.last_event)},
          {"text", system_status_text(word)}};
}

ordered_json clock_status_json(std::uint16_t word) {
  const auto s = proto::decode_clock_status(word);
  return {{"word", word},
          {"state", proto::to_string(s.state)},
          {"event_count", (word >> 4) & 0xf},
          {"text", clock_status_text(word)}};
}

ordered_json error_json(const model::control_read& r) {
  if (r.ok()) return nullptr;
  ordered_json j{{"kind", model::failure_kind(r)}, {"outcome", proto::to_string(r.outcome)}};
  if (r.auth_failed) {
    j["message"] = "the answer is not signed with our key: the server does not know it";
  } else if (r.server_error) {
    j["server_error"] = proto::ntpq_name(*r.server_error);
    j["message"] = proto::to_string(*r.server_error);
  } else {
    j["message"] = r.error ? r.error.message() : std::string(proto::to_string(r.outcome));
  }
  return j;
}

template <class T>
ordered_json optional_json(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

// What the clock variables say, decoded where the driver's meaning is known: the generic
// counters every driver has, PARSE's refclock_status flags and refclock_states times.
ordered_json clock_json(const proto::variable_list& vars) {
  const auto g = proto::decode_refclock_generic(vars);
  ordered_json j{{"name", optional_json(g.name)},         {"timecode", optional_json(g.timecode)},
                 {"polls", optional_json(g.poll)},        {"noreply", optional_json(g.noreply)},
                 {"badformat", optional_json(g.badformat)}, {"baddata", optional_json(g.baddata)},
                 {"device", optional_json(g.device)},     {"parse_status", nullptr},
                 {"parse_states", nullptr}};
  if (const auto* v = proto::find_variable(vars, "refclock_status")) {
    const auto text = v->text();
    const auto s = proto::decode_parse_status(text ? std::string_view(*text) : v->raw());
    if (s) {
      ordered_json flags = ordered_json::array(), caps = ordered_json::array();
      for (unsigned bit = 0; bit < 32; ++bit) {
        if (s->flags & (1u << bit)) {
          flags.push_back(proto::to_string(static_cast<proto::parse_flag>(1u << bit)));
        }
        if (s->capabilities & (1u << bit)) {
          caps.push_back(proto::to_string(static_cast<proto::parse_capability>(1u << bit)));
        }
      }
      j["parse_status"] = {{"flags", flags}, {"capabilities", caps}, {"unknown", s->unknown}};
    }
  }
  if (const auto* v = proto::find_variable(vars, "refclock_states")) {
    const auto text = v->text();
    const auto s = proto::decode_parse_states(text ? std::string_view(*text) : v->raw());
    if (s) {
      ordered_json states = ordered_json::array();
      for (const auto& t : s->states) {
        states.push_back({{"state", t.state}, {"seconds", t.seconds},
                          {"percent", t.percent_hundredths / 100.0}, {"current", t.current}});
      }
      j["parse_states"] = {{"current", s->current() ? ordered_json(s->current()->state)
                                                    : ordered_json(nullptr)},
                           {"running_seconds", s->running_seconds},
                           {"states", states}};
    }
  }
  return j;
}

ordered_json read_json(const model::control_read& r) {
  ordered_json j{{"opcode", proto::to_string(r.opcode)},
                 {"association_id", r.association_id},
                 {"ok", r.ok()}};
  if (r.outcome == proto::control_outcome::response ||
      r.outcome == proto::control_outcome::server_error) {
    if (r.opcode == proto::control_opcode::read_clock) {
      j["status"] = clock_status_json(r.status);
    } else if (r.association_id == 0) {
      j["status"] = system_status_json(r.status);
    } else {
      j["status"] = peer_status_json(r.status);
    }
  } else {
    j["status"] = nullptr;
  }
  if (r.opcode == proto::control_opcode::read_status && r.association_id == 0) {
    ordered_json a = ordered_json::array();
    for (const auto& e : r.associations) {
      a.push_back({{"association_id", e.association_id}, {"status", peer_status_json(e.status)}});
    }
    j["associations"] = std::move(a);
  } else {
    j["variables"] = variables_json(r.variables);
  }
  if (r.opcode == proto::control_opcode::read_clock) {
    j["clock"] = r.ok() ? clock_json(r.variables) : ordered_json(nullptr);
  }
  ordered_json refused = ordered_json::array();
  for (const auto& [name, code] : r.refused) {
    refused.push_back({{"name", name}, {"server_error", proto::ntpq_name(code)}});
  }
  j["refused"] = std::move(refused);
  j["requests"] = r.requests_sent;
  ordered_json ignored = ordered_json::object();
  for (const auto& [reason, n] : r.ignored) ignored[std::string(proto::ignore_reason_name(reason))] = n;
  j["ignored"] = std::move(ignored);
  j["mac"] = proto::to_string(r.mac);
  j["error"] = error_json(r);
  return j;
}

ordered_json optional_number(const std::optional<double>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

ordered_json peer_json(const model::peer_summary& p) {
  return {{"association_id", p.association_id},
          {"status", peer_status_json(p.status)},
          {"tally", std::string(1, p.tally)},
          {"remote", p.remote},
          {"srcadr", p.srcadr},
          {"refid", p.refid},
          {"stratum", p.stratum},
          {"type", std::string(1, p.type)},
          {"when", p.when_s ? ordered_json(*p.when_s) : ordered_json(nullptr)},
          {"poll", p.poll_s},
          {"reach", p.reach},
          {"reach_octal", [&] {
             char buf[32];
             std::snprintf(buf, sizeof buf, "%llo", static_cast<unsigned long long>(p.reach));
             return std::string(buf);
           }()},
          {"delay_ms", optional_number(p.delay_ms)},
          {"offset_ms", optional_number(p.offset_ms)},
          {"jitter_ms", optional_number(p.jitter_ms)},
          {"jitter_is_dispersion", p.jitter_is_dispersion},
          {"reference_clock", p.reference_clock}};
}

}  // namespace

std::string control_json(const model::control_run& run, const std::string& version) {
  ordered_json j{{"schema", control_schema_version},
                 {"tool", "ntpmon-query"},
                 {"version", version},
                 {"command", run.command},
                 {"server", {{"host", run.host},
                             {"address", run.address.empty() ? ordered_json(nullptr)
                                                             : ordered_json(run.address)},
                             {"port", run.port}}},
                 {"ok", run.ok()}};
  if (!run.resolve_error.empty()) {
    j["error"] = {{"kind", "resolve"}, {"message", run.resolve_error}};
  } else {
    j["error"] = nullptr;
    for (const auto& r : run.reads) {
      if (!r.ok()) {
        j["error"] = error_json(r);
        break;
      }
    }
  }
  ordered_json reads = ordered_json::array();
  for (const auto& r : run.reads) reads.push_back(read_json(r));
  j["reads"] = std::move(reads);
  if (run.command == "peers") {
    ordered_json peers = ordered_json::array();
    for (const auto& p : run.peers) peers.push_back(peer_json(p));
    j["peers"] = std::move(peers);
  }
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace ntpkit::report
