#pragma once

// Mode 6 variable lists (RFC 9327 §2.2 "data ... in the form of a list of variable = value
// strings"): what READVAR, READCLOCK, READ_MRU and READ_ORDLIST_A answer, and what READVAR and
// READ_MRU requests carry.
//
// The text as ntpd writes it (NTPsec 1.2.2 ntp_control.c ctl_putdata, seen on the wire): items
// `name=value` or a bare `name`, separated by ", " and, every ~70 characters, ",\r\n"; the
// response ends with "\r\n"; strings are in double quotes and may hold commas
// (`refclock_states="*NOMINAL: 00:00:48 (100.00%); running time: 00:00:48"`); values are not
// escaped. NTPsec also sends raw garbage bytes inside unquoted values (`filtdisp= 0.05 0.0\x04`
// on 2026-12-03). The tokenizer therefore works on bytes, accepts anything, never fails, and
// keeps the raw text of every value; typed readings are separate and fail cleanly.
//
// Tokenizing rules: outside double quotes, only ',' ends an item (as ntpq reads them: NTPsec
// 1.2.2 sends raw bytes, CR and LF among them, inside filtdelay/filtoffset/filtdisp, which
// must not split a value); empty items are skipped;
// in an item, the first '=' outside quotes separates the name from the value (the name may then
// be empty, "=value", which ntpd never writes but is kept); space, tab, CR and LF around names
// and values are trimmed (inside quotes nothing is). A quote that is never closed
// runs to the end of the data (the item is kept; text() then fails). Order and duplicates are
// kept as received: ntpd answers in its own order, not the order asked.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// The value of one variable: its raw text, and readings of it as a type. Every reading fails
/// with errc::bad_variable_value when the text is not of that form (the raw text stays).
class NTPKIT_API variable_value {
 public:
  variable_value() = default;
  /// A value whose text (after '=', trimmed) is `raw`; `present` is false for a bare name.
  variable_value(std::string raw, bool present) : raw_(std::move(raw)), present_(present) {}

  /// The text after '=', space and tab trimmed, quotes kept; may hold any bytes.
  std::string_view raw() const noexcept { return raw_; }
  /// False for a bare `name` (no '='), true for `name=` and `name=value`.
  bool present() const noexcept { return present_; }

  /// A decimal integer with an optional sign ("-23", "10"). No spaces, no "0x".
  result<std::int64_t> integer() const;
  /// A non-negative integer: decimal, or hex with a 0x prefix ("0x7f", "0xf61a", "123").
  result<std::uint64_t> unsigned_integer() const;
  /// A hex integer with its 0x prefix ("0x7f"), at most 16 digits.
  result<std::uint64_t> hex() const;
  /// A decimal number as ntpd prints doubles ("0.000119", "-13.5419", "6e-05", "2").
  /// Not "inf"/"nan", not hex floats.
  result<double> number() const;
  /// An NTP timestamp in ntpd's form "0xSSSSSSSS.FFFFFFFF" (1-8 hex digits each side):
  /// seconds and fraction exactly, no rounding ("0xeeb228c7.395e4309").
  result<timestamp> ntp_timestamp() const;
  /// The text: a quoted value without its quotes (`"x86_64"` → x86_64), an unquoted value as
  /// it is. Fails for a quote that is opened and not closed, or text after the closing quote.
  result<std::string> text() const;

  friend bool operator==(const variable_value&, const variable_value&) = default;

 private:
  std::string raw_;
  bool present_ = false;
};

/// A variable list in the order received: (name, value) pairs, duplicates kept.
using variable_list = std::vector<std::pair<std::string, variable_value>>;

/// Tokenizes mode 6 variable text (see the top of this header). Never fails.
NTPKIT_API variable_list parse_variables(std::string_view text);
/// The same over the bytes of a response's data.
NTPKIT_API variable_list parse_variables(std::span<const std::uint8_t> data);

/// The first value named `name`, or nullptr.
NTPKIT_API const variable_value* find_variable(const variable_list& list,
                                               std::string_view name) noexcept;

/// Writes a list back as ntpd would: `name=value` (or `name` when the value is absent) joined
/// by ", ". parse_variables() gives the list back when no name is empty or holds '=', ',',
/// '"', CR, LF, space or tab, and no value holds ',' outside quotes, an unbalanced quote, or
/// space, tab, CR or LF at either end.
NTPKIT_API std::string format_variables(const variable_list& list);

/// The data of a READVAR or READCLOCK request asking for `names`: joined by ',' as ntpq sends
/// them ("stratum,nosuchvar"); empty names are skipped. An empty list asks for the server's
/// default list. Errors: errc::control_data_too_long (over 468 bytes), errc::bad_variable_value
/// (a name holding ',', '=', '"', CR, LF, space or tab).
NTPKIT_API result<std::string> build_variable_request(std::span<const std::string> names);

/// The names of a READVAR request's data: the inverse of build_variable_request (also accepts
/// ", " separators and line ends around names, takes the name of `name=value` items, skips
/// empty names).
NTPKIT_API std::vector<std::string> split_variable_request(std::string_view data);

/// Splits `names` into the fewest runs, in order, whose request data each fits in
/// `max_bytes` (default one datagram, 468): what a caller sends as several READVARs when one
/// would be too long. A single name longer than max_bytes gets a run of its own (and
/// build_variable_request then refuses it).
NTPKIT_API std::vector<std::vector<std::string>> pack_variable_requests(
    std::span<const std::string> names, std::size_t max_bytes = 468);

/// "0xSSSSSSSS.FFFFFFFF", as ntpd writes timestamps (ctl_putts).
NTPKIT_API std::string format_ntp_timestamp(timestamp t);

}  // namespace ntpkit::proto
