#include "ntpkit/proto/session.hpp"

namespace ntpkit::proto {

std::string_view time_source_name(time_source s) noexcept {
  return s == time_source::kernel ? "kernel" : "user";
}

std::string_view ignore_reason_name(ignore_reason r) noexcept {
  switch (r) {
    case ignore_reason::source: return "source";
    case ignore_reason::oversized: return "oversized";
    case ignore_reason::malformed: return "malformed";
    case ignore_reason::origin: return "origin";
    case ignore_reason::duplicate: return "duplicate";
    case ignore_reason::mode: return "mode";
    case ignore_reason::mac: return "mac";
    case ignore_reason::mac_missing: return "mac_missing";
    case ignore_reason::mac_key_id: return "mac_key_id";
    case ignore_reason::mac_length: return "mac_length";
    case ignore_reason::crypto_nak: return "crypto_nak";
    case ignore_reason::over_limit: return "over_limit";
    case ignore_reason::version: return "version";
    case ignore_reason::not_reply: return "not_reply";
    case ignore_reason::command: return "command";
    case ignore_reason::sequence: return "sequence";
    case ignore_reason::truncated: return "truncated";
    case ignore_reason::not_response: return "not_response";
    case ignore_reason::opcode: return "opcode";
    case ignore_reason::empty_fragment: return "empty_fragment";
    case ignore_reason::late: return "late";
    case ignore_reason::nts_missing: return "nts_missing";
    case ignore_reason::nts_auth: return "nts_auth";
    case ignore_reason::nts_unique_id: return "nts_unique_id";
  }
  return "unknown";
}

}  // namespace ntpkit::proto
