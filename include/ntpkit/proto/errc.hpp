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
  // chrony's command protocol (proto/cmdmon*.hpp)
  cmdmon_not_reply,             ///< pkt_type is not 2 (reply), or res1/res2 are not zero
  cmdmon_not_request,           ///< pkt_type is not 1 (request), or res1/res2 are not zero
  cmdmon_bad_version,           ///< a protocol or reply version the codec does not speak
  cmdmon_unknown_reply,         ///< a reply code chrony never defined
  cmdmon_unsupported_reply,     ///< a reply code of an old protocol that is not decoded
  cmdmon_unexpected_reply,      ///< a reply code that does not answer the request's command
  cmdmon_unsupported_command,   ///< a command the request encoder does not know
  cmdmon_bad_length,            ///< a request shorter than its command's padded length
  cmdmon_no_progress,           ///< a client-log page whose next_index does not advance

  // Mode 6 control messages (RFC 9327): proto/control.hpp, control_vars.hpp, refclock.hpp,
  // mru.hpp. The first five say that a datagram is not part of the response being collected
  // (is_stray_control_error() is true for them); the others end the collection.
  not_control_message,      ///< not mode 6
  not_response,             ///< the response bit is clear: a request, not an answer
  wrong_sequence,           ///< answers another request (its sequence number differs)
  wrong_opcode,             ///< answers another opcode than the request's
  empty_fragment,           ///< a fragment with count 0 and the more bit set
  fragment_overlap,         ///< a fragment overlaps another one and differs from it
  fragment_conflict,        ///< data past the end the last fragment set, or two last fragments
  response_too_large,       ///< offset + count beyond the reassembly size limit
  too_many_fragments,       ///< more fragments than the reassembly limit
  missing_fragment,         ///< a gap before the end of the response
  missing_last_fragment,    ///< no fragment without the more bit has arrived
  no_fragment,              ///< nothing of the response has arrived
  control_data_too_long,    ///< request data longer than 468 bytes
  bad_association_list,     ///< READSTAT data that is not a list of 4-byte entries
  bad_variable_value,       ///< a mode 6 variable's value does not have the asked-for type
  variable_not_found,       ///< no variable of that name in the list
  bad_refclock_value,       ///< a reference clock variable that does not read as its driver writes it
  bad_mru_response,         ///< a READ_MRU or REQ_NONCE answer without what it must carry
  mru_restart_limit,        ///< the MRU walk had to start over more often than allowed
  // NTS (RFC 8915): NTS-KE records (proto/nts_ke.hpp), the AEAD (proto/aead.hpp) and the
  // NTS extension fields (proto/nts_ef.hpp)
  nts_ke_record_too_long,           ///< an NTS-KE record body longer than the decoder accepts
  nts_ke_message_too_long,          ///< an NTS-KE message longer than the decoder accepts
  nts_ke_record_after_end,          ///< a record after End of Message
  nts_ke_missing_end_of_message,    ///< the stream ended before End of Message
  nts_ke_unknown_critical_record,   ///< a record type we do not know, with the critical bit
  nts_ke_bad_record,                ///< a known record whose body has the wrong length or content
  nts_ke_duplicate_record,          ///< a second record of a type the message may hold once
  nts_ke_error_record,              ///< the server sent an Error record
  nts_ke_warning_record,            ///< the server sent a Warning record
  nts_ke_no_next_protocol,          ///< no Next Protocol record, or one with an empty list
  nts_ke_next_protocol_not_offered, ///< a protocol other than NTPv4, or more than one
  nts_ke_no_common_aead,            ///< no AEAD record, or one with an empty list
  nts_ke_aead_not_offered,          ///< an AEAD algorithm we did not offer, or more than one
  nts_ke_no_cookies,                ///< no New Cookie record
  nts_unsupported_aead,             ///< an AEAD algorithm this library does not implement
  nts_bad_key,                      ///< an AEAD key of the wrong length
  nts_aead_failure,                 ///< the AEAD tag does not verify (wrong key or tampered)
  nts_bad_authenticator,            ///< an NTS Authenticator field whose lengths do not fit
  nts_authenticator_missing,        ///< a reply without an NTS Authenticator field
  nts_authenticator_not_last,       ///< an NTS Authenticator field followed by other fields
  nts_unique_id_missing,            ///< a reply without a Unique Identifier field
  nts_unique_id_mismatch,           ///< a reply whose Unique Identifier is not our request's
  nts_bad_encrypted_field,          ///< the decrypted plaintext is not a list of fields
};

/// The category of errc; name() is "ntpkit.proto".
NTPKIT_API const std::error_category& proto_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), proto_category()};
}

/// True for the errc values that say a datagram is not part of the mode 6 response being
/// collected (not_control_message, not_response, wrong_sequence, wrong_opcode,
/// empty_fragment) and for errc::truncated: a control_reassembler ignores such a datagram and
/// stays as it was. False for every other code, among them those that end a collection.
NTPKIT_API bool is_stray_control_error(std::error_code ec) noexcept;

}  // namespace ntpkit::proto

template <>
struct std::is_error_code_enum<ntpkit::proto::errc> : std::true_type {};
