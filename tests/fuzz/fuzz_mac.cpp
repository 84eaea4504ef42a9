// Fuzz target: proto::verify_mac (both overloads), append_mac and sign_packet over any key and
// datagram (RFC 5905 §7.3 MAC, RFC 8573 AES-CMAC, the chrony/ntpd digest-length conventions).
//
// Input: a 7-byte prefix, then the key's secret, then the datagram.
//   [0]     algorithm: index into mac_algorithms(), modulo their number
//   [1]     bit 0: policy truncate_20; bit 1: policy ntpv3_for_long_mac;
//           bits 2..7: which bit of the signed datagram the tamper check flips (with [6])
//   [2]     secret length: min_key + [2] % (max_key - min_key + 1), at most 255 (CMAC: exact)
//   [3..6]  key id, big-endian ([6] also picks the tampered byte)
// An input too short for its secret is padded with zeros, so every input is a key and a
// (possibly empty) datagram.
//
// Invariants:
// - verify_mac on the datagram fails only with the documented errors, and exactly as parse_packet
//   does when the datagram does not parse; on a parsed datagram the packet overload agrees;
// - a MAC that verifies re-verifies, has the wire length of the length it reports, and fails
//   once any digest bit is flipped;
// - whatever the datagram holds before its trailer, append_mac and sign_packet write the same
//   bytes, and verify_mac accepts them with the policy's length (except where NTPv4's layout
//   reads a trailer of over 24 bytes as extension fields, RFC 7822); the 20-byte cut of a
//   long full digest verifies as truncate_20; one flipped bit anywhere, or another secret, fails.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/mac.hpp"
#include "ntpkit/proto/packet.hpp"

namespace {

using namespace ntpkit::proto;

constexpr std::size_t prefix_size = 7;

bool documented(std::error_code e) {
  return e == errc::truncated || e == errc::bad_extension_field || e == errc::bad_mac_length ||
         e == errc::mac_missing || e == errc::crypto_nak || e == errc::key_id_mismatch ||
         e == errc::mac_mismatch;
}

bool same(const ntpkit::result<digest_length>& a, const ntpkit::result<digest_length>& b) {
  if (a.has_value() != b.has_value()) return false;
  return a ? *a == *b : a.error() == b.error();
}

void check_received(const symmetric_key& key, std::span<const std::uint8_t> datagram) {
  const auto raw = verify_mac(key, datagram);
  const auto parsed = parse_packet(datagram);
  if (!raw) NTPKIT_FUZZ_CHECK(documented(raw.error()));
  if (!parsed) {
    NTPKIT_FUZZ_CHECK(!raw && raw.error() == parsed.error());
    return;
  }
  NTPKIT_FUZZ_CHECK(same(raw, verify_mac(key, *parsed)));
  if (!raw) return;
  const auto& info_row = info(key.algorithm());
  NTPKIT_FUZZ_CHECK(*raw == digest_length::full || info_row.digest_size > truncated_digest_size);
  NTPKIT_FUZZ_CHECK(parsed->mac && parsed->mac->key_id == key.id());
  NTPKIT_FUZZ_CHECK(parsed->mac->digest.size() == wire_digest_size(key.algorithm(), *raw));
  NTPKIT_FUZZ_CHECK(same(raw, verify_mac(key, datagram)));
  std::vector<std::uint8_t> flipped(datagram.begin(), datagram.end());
  flipped.back() ^= 0x80;
  NTPKIT_FUZZ_CHECK(verify_mac(key, flipped).error() == errc::mac_mismatch);
}

void check_signed(const symmetric_key& key, mac_policy policy,
                  std::span<const std::uint8_t> datagram, std::size_t tamper) {
  const auto at = mac_offset(datagram);
  if (!at) return;
  const std::vector<std::uint8_t> message(datagram.begin(),
                                          datagram.begin() + static_cast<std::ptrdiff_t>(*at));
  auto parsed = parse_packet(datagram);
  NTPKIT_FUZZ_CHECK(parsed.has_value());

  std::vector<std::uint8_t> bytes = message;
  NTPKIT_FUZZ_CHECK(append_mac(bytes, key, policy).has_value());
  packet p = *parsed;
  NTPKIT_FUZZ_CHECK(sign_packet(p, key, policy).has_value());
  NTPKIT_FUZZ_CHECK(serialize_packet(p) == bytes);

  const auto& row = info(key.algorithm());
  const std::size_t wire = wire_digest_size(key.algorithm(), policy.length);
  const digest_length expect =
      wire == row.digest_size ? digest_length::full : digest_length::truncate_20;
  NTPKIT_FUZZ_CHECK(bytes.size() == message.size() + 4 + wire);
  const auto verified = verify_mac(key, bytes);
  const auto layout = mac_offset(bytes);
  if (!layout || *layout != message.size()) {
    // NTPv4 reads a trailer over 24 bytes as extension fields first (RFC 7822): behind a
    // field it is never a MAC, and directly after the header a digest whose first bytes make
    // a valid field length is read as one. Only such datagrams lose their MAC's place.
    NTPKIT_FUZZ_CHECK(4 + wire > max_v4_mac_size && ((bytes[0] >> 3) & 7) == 4);
    NTPKIT_FUZZ_CHECK(!verified);
    return;
  }
  NTPKIT_FUZZ_CHECK(verified.has_value() && *verified == expect);
  NTPKIT_FUZZ_CHECK(same(verified, verify_mac(key, p)));

  if (expect == digest_length::full && row.digest_size > truncated_digest_size) {
    std::vector<std::uint8_t> cut(bytes.begin(),
                                  bytes.end() - static_cast<std::ptrdiff_t>(wire - 20));
    const auto short_form = verify_mac(key, cut);
    NTPKIT_FUZZ_CHECK(short_form.has_value() && *short_form == digest_length::truncate_20);
  }

  std::vector<std::uint8_t> tampered = bytes;
  tampered[(tamper / 8) % tampered.size()] ^= static_cast<std::uint8_t>(1u << (tamper % 8));
  NTPKIT_FUZZ_CHECK(!verify_mac(key, tampered).has_value());

  std::vector<std::uint8_t> other(key.secret().begin(), key.secret().end());
  other[0] ^= 1;
  const auto other_key = symmetric_key::make(key.id(), key.algorithm(), other);
  NTPKIT_FUZZ_CHECK(other_key.has_value());
  NTPKIT_FUZZ_CHECK(verify_mac(*other_key, bytes).error() == errc::mac_mismatch);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint8_t head[prefix_size] = {};
  std::copy_n(data, std::min(size, prefix_size), head);
  const auto algorithms = mac_algorithms();
  const auto& row = algorithms[head[0] % algorithms.size()];
  const mac_policy policy{head[1] & 1 ? digest_length::truncate_20 : digest_length::full,
                          (head[1] & 2) != 0};
  const std::size_t longest = std::min<std::size_t>(row.max_key, 255);
  const std::size_t key_size = row.min_key + head[2] % (longest - row.min_key + 1);
  const std::uint32_t id = std::uint32_t(head[3]) << 24 | std::uint32_t(head[4]) << 16 |
                           std::uint32_t(head[5]) << 8 | head[6];
  const std::size_t tamper = std::size_t(head[1] >> 2) << 8 | head[6];

  const std::span<const std::uint8_t> in(data, size);
  const auto rest = in.subspan(std::min(size, prefix_size));
  std::vector<std::uint8_t> secret(key_size, 0);
  std::copy_n(rest.begin(), std::min(rest.size(), key_size), secret.begin());
  const auto datagram = rest.subspan(std::min(rest.size(), key_size));

  const auto key = symmetric_key::make(id, row.algorithm, secret);
  NTPKIT_FUZZ_CHECK(key.has_value());
  check_received(*key, datagram);
  check_signed(*key, policy, datagram, tamper);
  return 0;
}
