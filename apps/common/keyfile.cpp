#include "keyfile.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ntpkit::apps {
namespace {

// Key files are small; anything larger is not one.
constexpr std::size_t max_key_file_bytes = 1 << 20;

// The file's own name says chrony ("chrony.keys", "client.chrony.keys"), or its directory is
// chrony's ("/etc/chrony/keys").
bool names_chrony(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  return base.find("chrony") != std::string::npos || dir == "chrony" ||
         dir.ends_with("/chrony");
}

}  // namespace

std::variant<chosen_key, std::string> load_key(const std::string& program, const std::string& path,
                                               std::uint32_t id, const std::string& mac_length,
                                               const std::string& format) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "cannot read key file " + path + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "key file " + path + " is not a regular file";
  if (static_cast<std::size_t>(st.st_size) > max_key_file_bytes) {
    return "key file " + path + " is larger than 1 MiB";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read key file " + path + ": " + std::strerror(errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (st.st_mode & (S_IRGRP | S_IROTH)) {
    std::fprintf(stderr, "%s: warning: key file %s is readable by group or others (mode %04o)\n",
                 program.c_str(), path.c_str(), static_cast<unsigned>(st.st_mode & 07777));
  }
  proto::key_file_error error;
  auto file = format == "ntp"      ? proto::parse_key_file(text.str(), proto::key_file_format::ntp_keys, &error)
              : format == "chrony" ? proto::parse_key_file(text.str(), proto::key_file_format::chrony_keys, &error)
                                   : proto::parse_key_file(text.str(), &error);
  if (!file) return proto::to_string(error, path);
  if (file->guessed && names_chrony(path)) {
    // No line decided, but the file's name does: read it again as chrony.keys.
    auto as_chrony =
        proto::parse_key_file(text.str(), proto::key_file_format::chrony_keys, &error);
    if (!as_chrony) return proto::to_string(error, path);
    file = std::move(as_chrony);
  }
  const auto* key = file->find(id);
  if (!key) {
    // A file of 60,000 keys would make a 400 KB line: name the first few and count the rest.
    constexpr std::size_t shown = 10;
    std::string ids;
    for (std::size_t i = 0; i < file->keys.size() && i < shown; ++i) {
      ids += (ids.empty() ? "" : ", ") + std::to_string(file->keys[i].id());
    }
    if (file->keys.size() > shown) {
      ids += " and " + std::to_string(file->keys.size() - shown) + " more";
    }
    return path + " (" + std::string(proto::to_string(file->format)) + ") has no key " +
           std::to_string(id) + (ids.empty() ? " (it has none)" : " (it has " + ids + ")");
  }
  // libcrypto is loaded when first needed: a missing one is said here, once, not as a
  // failure to sign every request.
  if (auto e = proto::crypto_library_error(); !e.empty()) {
    return "cannot use key " + std::to_string(id) + ": the crypto library is missing (" + e + ")";
  }
  chosen_key out{*key, proto::default_mac_policy(file->format), file->format, file->guessed};
  if (mac_length == "full") {
    out.policy = {proto::digest_length::full, true};
  } else if (mac_length == "20") {
    out.policy = {proto::digest_length::truncate_20, false};
  }
  return out;
}

}  // namespace ntpkit::apps
