#include "ntpkit/proto/control_query.hpp"

#include <utility>

#include "ntpkit/proto/control_vars.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

// The ignore reason of a datagram that is not for the response being collected.
ignore_reason reason_of(std::error_code stray) noexcept {
  if (stray == errc::not_control_message) return ignore_reason::mode;
  if (stray == errc::not_response) return ignore_reason::not_response;
  if (stray == errc::wrong_sequence) return ignore_reason::sequence;
  if (stray == errc::wrong_opcode) return ignore_reason::opcode;
  if (stray == errc::empty_fragment) return ignore_reason::empty_fragment;
  return ignore_reason::malformed;
}

// True when the list so far is empty or ends with a comma (blanks and line ends after it
// aside): only a comma separates items (control_vars.hpp).
bool ends_with_separator(const std::vector<std::uint8_t>& d) noexcept {
  auto i = d.size();
  while (i > 0 && (d[i - 1] == ' ' || d[i - 1] == '\t' || d[i - 1] == '\r' || d[i - 1] == '\n')) {
    --i;
  }
  return i == 0 || d[i - 1] == ',';
}

}  // namespace

std::string_view to_string(control_outcome o) noexcept {
  switch (o) {
    case control_outcome::response:
      return "response";
    case control_outcome::server_error:
      return "server_error";
    case control_outcome::timeout:
      return "timeout";
    case control_outcome::incomplete:
      return "incomplete";
    case control_outcome::bad_response:
      return "bad_response";
    case control_outcome::transport_error:
      return "transport_error";
    case control_outcome::bad_request:
      return "bad_request";
  }
  return "unknown";
}

control_query::control_query(control_query_options options, steady_time now)
    : options_(std::move(options)), sequence_(options_.sequence), deadline_(now) {
  auto data = options_.data;
  start_request(std::move(data));
}

void control_query::start_request(std::vector<std::uint8_t> data) {
  control_request r;
  r.opcode = options_.opcode;
  r.sequence = sequence_;
  r.association_id = options_.association_id;
  r.data = std::move(data);
  r.version = options_.version;
  r.leap = options_.leap;
  auto encoded =
      encode_control_request(r, options_.key ? &*options_.key : nullptr, options_.digest);
  if (!encoded) return finish(control_outcome::bad_request, encoded.error());
  request_ = std::move(*encoded);
  attempt_ = 0;
  state_ = state::to_send;
}

void control_query::finish(control_outcome o, std::error_code ec) {
  result_.outcome = o;
  result_.error = ec;
  const bool answered = o == control_outcome::response || o == control_outcome::server_error;
  if (options_.key && answered && !unsigned_accepted_) result_.mac = control_mac_status::verified;
  state_ = state::done;
}

session_action control_query::next(steady_time now) {
  switch (state_) {
    case state::done:
      return finished{};
    case state::to_send:
      // A fresh reassembler per send: fragments of an earlier try carry another sequence.
      reassembler_.emplace(sequence_, options_.opcode, options_.limits);
      seen_ = 0;
      ++attempt_;
      ++result_.requests_sent;
      state_ = state::sent;
      deadline_ = now + options_.timeout;  // until on_sent says when it left
      return send_bytes{request_, ++tag_};
    case state::sent:
    case state::waiting:
      if (now >= deadline_) {
        timed_out(now);
        return next(now);
      }
      return wait_until{deadline_};
  }
  return finished{};
}

void control_query::timed_out(steady_time) {
  const std::error_code missing = reassembler_->missing();
  if (attempt_ <= options_.retries) {
    ++sequence_;  // a new number: see the header on ntpq's two ways
    auto data = asking_each_ ? std::vector<std::uint8_t>(names_[name_index_].begin(),
                                                         names_[name_index_].end())
                             : options_.data;
    const unsigned attempts = attempt_;
    start_request(std::move(data));
    attempt_ = attempts;
    return;
  }
  if (missing == errc::no_fragment) {
    return finish(control_outcome::timeout, std::make_error_code(std::errc::timed_out));
  }
  finish(control_outcome::incomplete, missing);
}

void control_query::on_sent(const sent_meta& meta) {
  if (state_ != state::sent || meta.tag != tag_) return;
  deadline_ = meta.at + options_.timeout;
  state_ = state::waiting;
}

void control_query::on_send_failed(std::error_code ec) {
  if (state_ == state::done) return;
  finish(control_outcome::transport_error, ec);
}

void control_query::on_transport_error(std::error_code ec) {
  if (state_ == state::done) return;
  finish(control_outcome::transport_error, ec);
}

bool control_query::mac_acceptable(std::span<const std::uint8_t> bytes) {
  if (!options_.key) return true;
  const auto status = verify_control_mac(bytes, *options_.key);
  if (!status) {
    ignore(ignore_reason::malformed);
    return false;
  }
  switch (*status) {
    case control_mac_status::verified:
      return true;
    case control_mac_status::missing:
      if (options_.require_reply_mac) {
        ignore(ignore_reason::mac_missing);
        return false;
      }
      unsigned_accepted_ = true;
      return true;
    case control_mac_status::key_id:
      ignore(ignore_reason::mac_key_id);
      return false;
    case control_mac_status::mismatch:
      ignore(ignore_reason::mac);
      return false;
    case control_mac_status::malformed:
      ignore(ignore_reason::mac_length);
      return false;
  }
  return false;
}

void control_query::on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& meta) {
  if (state_ == state::done || state_ == state::to_send) return ignore(ignore_reason::late);
  if (!meta.from_peer) return ignore(ignore_reason::source);
  if (meta.truncated) return ignore(ignore_reason::oversized);
  if (++seen_ > options_.max_datagrams) return ignore(ignore_reason::over_limit);
  const auto f = parse_control_fragment(bytes);
  if (!f) return ignore(reason_of(f.error()));
  if (const auto stray = reassembler_->check(f->header)) return ignore(reason_of(stray));
  if (!mac_acceptable(bytes)) return;
  const std::size_t duplicates = reassembler_->response().duplicates;
  const auto fed = reassembler_->feed(*f);
  if (!fed) {
    if (is_stray_control_error(fed.error())) return ignore(reason_of(fed.error()));
    return finish(control_outcome::bad_response, fed.error());
  }
  if (*fed == control_reassembler::progress::complete) return on_complete();
  if (reassembler_->response().duplicates != duplicates) return ignore(ignore_reason::duplicate);
  deadline_ = meta.at + options_.fragment_timeout;
  state_ = state::waiting;
}

void control_query::on_complete() {
  const control_response& r = reassembler_->response();
  if (asking_each_) {
    if (r.error) {
      result_.refused.emplace_back(names_[name_index_], *r.error);
    } else {
      // Each answer ends with "\r\n", not a comma; join them so the tokenizer sees one list.
      if (!ends_with_separator(joined_)) joined_.push_back(',');
      joined_.insert(joined_.end(), r.data.begin(), r.data.end());
      result_.response = r;
    }
    ++name_index_;
    return next_name();
  }
  if (r.error == control_error::unknown_variable &&
      options_.on_unknown_variable == unknown_variable_policy::ask_each &&
      (options_.opcode == control_opcode::read_variables ||
       options_.opcode == control_opcode::read_clock)) {
    names_ = split_variable_request(std::string_view(
        reinterpret_cast<const char*>(options_.data.data()), options_.data.size()));
  }
  if (names_.size() > 1) {
    asking_each_ = true;
    name_index_ = 0;
    return next_name();
  }
  result_.response = r;
  finish(r.error ? control_outcome::server_error : control_outcome::response);
}

void control_query::next_name() {
  if (name_index_ < names_.size()) {
    ++sequence_;
    const auto& n = names_[name_index_];
    return start_request({n.begin(), n.end()});
  }
  if (result_.refused.size() == names_.size()) {
    // No name was known: the answer is the server's error, as to the whole list.
    result_.response = reassembler_->response();
    return finish(control_outcome::server_error);
  }
  result_.response.data = std::move(joined_);
  result_.response.error.reset();
  finish(control_outcome::response);
}

}  // namespace ntpkit::proto
