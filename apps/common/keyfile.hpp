#pragma once

// Reading a key file for -a/--key ID -k/--keyfile FILE, shared by every binary that signs.

#include <optional>
#include <string>
#include <variant>

#include "ntpkit/proto/keys.hpp"
#include "ntpkit/proto/mac.hpp"

namespace ntpkit::apps {

/// The key to use and the MAC convention for it.
struct chosen_key {
  proto::symmetric_key key;
  proto::mac_policy policy;
  proto::key_file_format format;
  bool format_guessed = false;  ///< no line and not the file's name decided the format
};

/// Reads `path`, parses it and picks key `id`. `format` is "auto" (or ""), "ntp" or "chrony":
/// with auto, the lines decide (see proto/keys.hpp); when none does, a file whose name contains
/// "chrony" or that lies in a directory named chrony (chrony.keys, /etc/chrony/keys) is read as
/// chrony.keys, any other as ntp.keys with format_guessed set. `mac_length` is "" (the file format's convention), "full" or
/// "20". Warns on stderr, as `program`, when the file is readable by group or others. On error,
/// the one-line message ("PATH:LINE: reason", "cannot read PATH: ...", "PATH has no key 5").
std::variant<chosen_key, std::string> load_key(const std::string& program, const std::string& path,
                                               std::uint32_t id, const std::string& mac_length,
                                               const std::string& format = "auto");

}  // namespace ntpkit::apps
