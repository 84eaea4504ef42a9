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

}  // namespace ntpkit::proto
