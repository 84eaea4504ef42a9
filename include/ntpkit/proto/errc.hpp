#pragma once

// Errors of the pure protocol layer, registered with std::error_code (Boost.MySQL's client_errc
// pattern, on std:: so that proto stays free of Boost).

#include <system_error>

#include "ntpkit/export.hpp"

namespace ntpkit::proto {

/// Why proto refused some outside bytes. Messages are short lowercase phrases.
enum class errc {
  truncated = 1,            ///< fewer bytes than the structure needs
  bad_extension_field,      ///< an RFC 7822 extension field with an impossible length
  bad_mac_length,           ///< bytes after the header that are neither extension fields nor a MAC
  mac_missing,              ///< a MAC was required but the packet has none
  mac_mismatch,             ///< the MAC does not verify with the key
  key_id_mismatch,          ///< the MAC names another key than the one we used
  unknown_key,              ///< no key with that id
  unsupported_algorithm,    ///< a MAC or key type we do not implement
  bad_key,                  ///< key material of the wrong length or encoding
  bad_key_file,             ///< a key file line that cannot be parsed
  crypto_failure,           ///< the crypto library refused an operation
  buffer_too_small,         ///< the output span cannot hold the encoding
  crypto_nak,               ///< the MAC trailer is a crypto-NAK: a key id and no digest
};

/// The category of errc; name() is "ntpkit.proto".
NTPKIT_API const std::error_category& proto_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), proto_category()};
}

}  // namespace ntpkit::proto

template <>
struct std::is_error_code_enum<ntpkit::proto::errc> : std::true_type {};
