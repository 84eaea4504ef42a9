#include "ntpkit/proto/errc.hpp"

#include <string>

namespace ntpkit::proto {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ntpkit.proto"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::truncated: return "truncated packet";
      case errc::bad_extension_field: return "malformed extension field";
      case errc::bad_mac_length: return "trailing bytes are neither extension fields nor a MAC";
      case errc::mac_missing: return "no MAC";
      case errc::mac_mismatch: return "MAC does not verify";
      case errc::key_id_mismatch: return "MAC names another key";
      case errc::unknown_key: return "unknown key id";
      case errc::unsupported_algorithm: return "unsupported MAC algorithm";
      case errc::bad_key: return "bad key material";
      case errc::bad_key_file: return "bad key file";
      case errc::crypto_failure: return "crypto library failure";
      case errc::buffer_too_small: return "output buffer too small";
      case errc::crypto_nak: return "crypto-NAK (MAC trailer without a digest)";
      case errc::cmdmon_not_reply: return "not a cmdmon reply";
      case errc::cmdmon_not_request: return "not a cmdmon request";
      case errc::cmdmon_bad_version: return "unsupported cmdmon version";
      case errc::cmdmon_unknown_reply: return "unknown cmdmon reply code";
      case errc::cmdmon_unsupported_reply: return "obsolete cmdmon reply code";
      case errc::cmdmon_unexpected_reply: return "cmdmon reply does not answer the command";
      case errc::cmdmon_unsupported_command: return "unsupported cmdmon command";
      case errc::cmdmon_bad_length: return "cmdmon request shorter than its command needs";
      case errc::cmdmon_no_progress: return "cmdmon client list does not advance";
      case errc::not_control_message: return "not a mode 6 control message";
      case errc::not_response: return "a mode 6 request, not a response";
      case errc::wrong_sequence: return "mode 6 response to another sequence number";
      case errc::wrong_opcode: return "mode 6 response to another opcode";
      case errc::empty_fragment: return "empty mode 6 fragment with the more bit";
      case errc::fragment_overlap: return "mode 6 fragments overlap and differ";
      case errc::fragment_conflict: return "mode 6 fragment past the end of the response";
      case errc::response_too_large: return "mode 6 response larger than the limit";
      case errc::too_many_fragments: return "more mode 6 fragments than the limit";
      case errc::missing_fragment: return "mode 6 response has a gap";
      case errc::missing_last_fragment: return "mode 6 response has no last fragment";
      case errc::no_fragment: return "no mode 6 fragment arrived";
      case errc::control_data_too_long: return "mode 6 request data longer than 468 bytes";
      case errc::bad_association_list: return "malformed mode 6 association list";
      case errc::bad_variable_value: return "mode 6 variable value of the wrong form";
      case errc::variable_not_found: return "no such mode 6 variable";
      case errc::bad_refclock_value: return "malformed reference clock variable";
      case errc::bad_mru_response: return "malformed MRU list response";
      case errc::mru_restart_limit: return "MRU walk restarted too often";
      case errc::nts_ke_record_too_long: return "NTS-KE record too long";
      case errc::nts_ke_message_too_long: return "NTS-KE message too long";
      case errc::nts_ke_record_after_end: return "NTS-KE record after end of message";
      case errc::nts_ke_missing_end_of_message: return "NTS-KE message without end of message";
      case errc::nts_ke_unknown_critical_record: return "unknown critical NTS-KE record";
      case errc::nts_ke_bad_record: return "malformed NTS-KE record";
      case errc::nts_ke_duplicate_record: return "repeated NTS-KE record";
      case errc::nts_ke_error_record: return "NTS-KE server sent an error";
      case errc::nts_ke_warning_record: return "NTS-KE server sent a warning";
      case errc::nts_ke_no_next_protocol: return "NTS-KE response names no next protocol";
      case errc::nts_ke_next_protocol_not_offered:
        return "NTS-KE response names a protocol we did not offer";
      case errc::nts_ke_no_common_aead: return "NTS-KE server has no AEAD algorithm in common";
      case errc::nts_ke_aead_not_offered:
        return "NTS-KE response names an AEAD algorithm we did not offer";
      case errc::nts_ke_no_cookies: return "NTS-KE response holds no cookie";
      case errc::nts_unsupported_aead: return "unsupported AEAD algorithm";
      case errc::nts_bad_key: return "AEAD key of the wrong length";
      case errc::nts_aead_failure: return "NTS authenticator does not verify";
      case errc::nts_bad_authenticator: return "malformed NTS authenticator field";
      case errc::nts_authenticator_missing: return "no NTS authenticator field";
      case errc::nts_authenticator_not_last: return "NTS authenticator is not the last field";
      case errc::nts_unique_id_missing: return "no NTS unique identifier";
      case errc::nts_unique_id_mismatch: return "NTS unique identifier is not ours";
      case errc::nts_bad_encrypted_field: return "malformed encrypted extension field";
    }
    return "unknown proto error";
  }
};

}  // namespace

const std::error_category& proto_category() noexcept {
  static const category instance;
  return instance;
}

bool is_stray_control_error(std::error_code ec) noexcept {
  return ec == errc::truncated || ec == errc::not_control_message || ec == errc::not_response ||
         ec == errc::wrong_sequence || ec == errc::wrong_opcode || ec == errc::empty_fragment;
}

}  // namespace ntpkit::proto
