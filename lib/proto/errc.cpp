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
