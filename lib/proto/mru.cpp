#include "ntpkit/proto/mru.hpp"

#include <algorithm>
#include <charconv>

#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

constexpr std::size_t max_data = 468;
constexpr unsigned max_frags = 32;  // ntpq's MAXFRAGS
constexpr unsigned max_limit = 96;  // ntpq: 3 * MAXFRAGS rows
constexpr std::size_t max_index_digits = 6;
constexpr std::size_t received_window = 1024;  // rows kept for continuation

using row = std::vector<std::pair<std::string, std::string>>;  // tag, raw value

// "tag.index" with a decimal index; false for anything else ("last.newest").
bool split_indexed(std::string_view name, std::string_view& tag, std::uint32_t& index) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const auto digits = name.substr(dot + 1);
  if (digits.empty() || digits.size() > max_index_digits) return false;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return false;
  tag = name.substr(0, dot);
  return true;
}

// One row's fields; false when a known field does not read or addr/last are missing.
bool read_row(const row& fields, mru_entry& e) {
  bool has_addr = false, has_last = false;
  for (const auto& [tag, raw] : fields) {
    const variable_value v(raw, true);
    bool ok = true;
    const auto take = [&ok](auto r, auto& field) {
      if (r)
        field = static_cast<std::decay_t<decltype(field)>>(*r);
      else
        ok = false;
    };
    if (tag == "addr") {
      auto t = v.text();
      ok = t.has_value() && !t->empty();
      if (ok) e.address = *t;
      has_addr = ok;
    } else if (tag == "last") {
      take(v.ntp_timestamp(), e.last);
      has_last = ok;
    } else if (tag == "first") {
      take(v.ntp_timestamp(), e.first);
    } else if (tag == "ct") {
      take(v.unsigned_integer(), e.count);
    } else if (tag == "mv") {
      auto m = v.unsigned_integer();
      ok = m.has_value() && *m <= 255;
      if (ok) e.mode_version = static_cast<std::uint8_t>(*m);
    } else if (tag == "rs") {
      auto r = v.unsigned_integer();
      ok = r.has_value() && *r <= 0xffffffffu;
      if (ok) e.restrictions = static_cast<std::uint32_t>(*r);
    } else if (tag == "sc") {
      auto n = v.number();
      ok = n.has_value();
      if (ok) e.score = *n;
    } else if (tag == "dr") {
      auto n = v.unsigned_integer();
      ok = n.has_value();
      if (ok) e.dropped = *n;
    } else {
      e.other.emplace_back(tag, raw);
    }
    if (!ok) return false;
  }
  return has_addr && has_last;
}

bool later(timestamp a, timestamp b) noexcept { return (a - b).bits() > 0; }

}  // namespace

mru_response parse_mru_response(const variable_list& list) {
  mru_response out;
  std::map<std::uint32_t, row> rows;
  for (const auto& item : list) {
    const std::string& name = item.first;
    const variable_value& value = item.second;
    std::string_view tag;
    std::uint32_t index = 0;
    const auto ts = [&value] {
      auto t = value.ntp_timestamp();
      return t ? std::optional<timestamp>(*t) : std::nullopt;
    };
    if (name == "nonce") {
      if (auto t = value.text()) out.nonce = *t;
    } else if (name == "now") {
      out.now = ts();
    } else if (name == "last.newest") {
      out.last_newest = ts();
    } else if (name == "last.older") {
      out.older_last = ts();
    } else if (name == "addr.older") {
      if (auto t = value.text()) out.older_address = *t;
    } else if (split_indexed(name, tag, index)) {
      rows[index].emplace_back(std::string(tag), std::string(value.raw()));
    } else {
      out.unknown.push_back(name);
    }
  }
  for (const auto& [index, fields] : rows) {
    mru_entry e;
    if (read_row(fields, e))
      out.entries.push_back(std::move(e));
    else
      ++out.malformed_rows;
  }
  return out;
}

result<std::string> parse_nonce(const variable_list& list) {
  const auto* v = find_variable(list, "nonce");
  if (v == nullptr || v->raw().empty() ||
      !std::all_of(v->raw().begin(), v->raw().end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      })) {
    return errc::bad_mru_response;
  }
  return std::string(v->raw());
}

std::string build_mru_request(std::string_view nonce, mru_size size,
                              const std::vector<std::pair<std::string, std::string>>& parameters,
                              bool first, const std::vector<mru_prior>& priors,
                              std::size_t* priors_used) {
  std::string out = "nonce=" + std::string(nonce) + (size.by_fragments ? ", frags=" : ", limit=") +
                    std::to_string(size.count);
  if (first) {
    for (const auto& [n, v] : parameters) {
      if (n == "recent") out += ", " + n + "=" + v;
    }
  }
  for (const auto& [n, v] : parameters) {
    if (n != "recent") out += ", " + n + "=" + v;
  }
  std::size_t used = 0;
  for (const auto& p : priors) {
    const std::string i = std::to_string(used);
    const std::string pair =
        ", addr." + i + "=" + p.address + ", last." + i + "=" + format_ntp_timestamp(p.last);
    if (out.size() + pair.size() >= max_data) break;
    out += pair;
    ++used;
  }
  if (priors_used != nullptr) *priors_used = used;
  return out;
}

std::string_view to_string(mru_outcome o) noexcept {
  switch (o) {
    case mru_outcome::complete:
      return "complete";
    case mru_outcome::row_limit:
      return "row_limit";
    case mru_outcome::time_limit:
      return "time_limit";
    case mru_outcome::restart_limit:
      return "restart_limit";
    case mru_outcome::timeout:
      return "timeout";
    case mru_outcome::server_error:
      return "server_error";
    case mru_outcome::bad_response:
      return "bad_response";
    case mru_outcome::transport_error:
      return "transport_error";
  }
  return "unknown";
}

// ---- the walk ----------------------------------------------------------------------------------

mru_walk::mru_walk(mru_walk_options options, steady_time now)
    : options_(std::move(options)),
      started_(now),
      sequence_(options_.sequence),
      size_(options_.size) {
  start_nonce(now);
}

control_query_options mru_walk::query_options(control_opcode op,
                                              std::vector<std::uint8_t> data) const {
  control_query_options q;
  q.opcode = op;
  q.data = std::move(data);
  q.sequence = sequence_;
  q.timeout = options_.timeout;
  q.fragment_timeout = options_.fragment_timeout;
  q.retries = options_.retries;
  q.key = options_.key;
  q.leap = options_.leap;
  return q;
}

void mru_walk::start_nonce(steady_time now) {
  step_ = step::nonce;
  ++result_.nonce_requests;
  query_.emplace(query_options(control_opcode::request_nonce, {}), now);
}

std::vector<mru_prior> mru_walk::priors() const {
  std::vector<mru_prior> out;
  if (from_start_) return out;
  const std::size_t offered = received_.size() - std::min(skip_priors_, received_.size());
  // Newest first: the latest rows received come first, as ntpq sends them. At most ~8 fit.
  for (std::size_t i = offered; i > 0 && out.size() < 16; --i) out.push_back(received_[i - 1]);
  return out;
}

void mru_walk::start_read(steady_time now) {
  if (now - nonce_at_ >= options_.nonce_max_age) return start_nonce(now);
  step_ = step::read;
  const bool first = first_read_;
  const std::string data =
      build_mru_request(nonce_, size_, options_.parameters, first, priors(), &priors_sent_);
  query_.emplace(query_options(control_opcode::read_mru, {data.begin(), data.end()}), now);
}

session_action mru_walk::next(steady_time now) {
  // Bounded: each pass either returns, or handles a finished query, which starts another
  // (whose first action is a send) or ends the walk.
  for (int pass = 0; pass < 4; ++pass) {
    if (done_) return finished{};
    if (now - started_ >= options_.max_duration) {
      finish(mru_outcome::time_limit);
      return finished{};
    }
    auto action = query_->next(now);
    if (!query_->done()) return action;
    handle(query_->result(), now);
  }
  return finished{};
}

void mru_walk::on_sent(const sent_meta& meta) {
  if (!done_) query_->on_sent(meta);
}
void mru_walk::on_send_failed(std::error_code ec) {
  if (!done_) query_->on_send_failed(ec);
}
void mru_walk::on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& meta) {
  if (done_) {
    result_.ignored.add(ignore_reason::late);
    return;
  }
  query_->on_datagram(bytes, meta);
}
void mru_walk::on_transport_error(std::error_code ec) {
  if (!done_) query_->on_transport_error(ec);
}

void mru_walk::finish(mru_outcome o, std::error_code ec) {
  result_.outcome = o;
  result_.error = ec;
  result_.entries.clear();
  result_.entries.reserve(merged_.size());
  // Moved out node by node: a 50,000-entry list is not held twice at its peak.
  while (!merged_.empty()) {
    auto node = merged_.extract(merged_.begin());
    result_.entries.push_back(std::move(node.mapped()));
  }
  const timestamp pivot =
      result_.now.value_or(result_.entries.empty() ? timestamp{} : result_.entries.front().last);
  std::sort(result_.entries.begin(), result_.entries.end(), [&](const auto& a, const auto& b) {
    const auto da = (a.last - pivot).bits(), db = (b.last - pivot).bits();
    return da != db ? da < db : a.address < b.address;
  });
  done_ = true;
}

void mru_walk::handle(const control_query_result& r, steady_time now) {
  result_.requests += r.requests_sent;
  sequence_ = static_cast<std::uint16_t>(sequence_ + r.requests_sent);
  for (const auto& [reason, count] : r.ignored) result_.ignored.add(reason, count);
  switch (r.outcome) {
    case control_outcome::response:
    case control_outcome::server_error:
      return step_ == step::nonce ? handle_nonce(r, now) : handle_read(r, now);
    case control_outcome::timeout:
    case control_outcome::incomplete:
      return handle_failure(now);
    case control_outcome::bad_response:
    case control_outcome::bad_request:
      return finish(mru_outcome::bad_response, r.error);
    case control_outcome::transport_error:
      return finish(mru_outcome::transport_error, r.error);
  }
}

void mru_walk::handle_failure(steady_time now) {
  if (++failures_ >= options_.max_failures) {
    return finish(mru_outcome::timeout, std::make_error_code(std::errc::timed_out));
  }
  if (step_ == step::read) {
    // Ask for less; and a request with an expired nonce gets no answer: fetch a new one.
    size_.count = std::max(2u, size_.count / 2);
    return start_nonce(now);
  }
  start_nonce(now);
}

void mru_walk::handle_nonce(const control_query_result& r, steady_time now) {
  if (r.response.error) {
    result_.server_error = r.response.error;
    return finish(mru_outcome::server_error);
  }
  auto n = parse_nonce(parse_variables(r.response.data));
  if (!n) return finish(mru_outcome::bad_response, n.error());
  nonce_ = *n;
  nonce_at_ = now;
  start_read(now);
}

void mru_walk::handle_read(const control_query_result& r, steady_time now) {
  if (r.response.error == control_error::unknown_variable) {
    if (++result_.restarts > options_.max_restarts) {
      return finish(mru_outcome::restart_limit, errc::mru_restart_limit);
    }
    // None of the priors we sent is unchanged: offer older ones, or start over.
    skip_priors_ += priors_sent_;
    from_start_ = priors_sent_ == 0 || skip_priors_ >= received_.size();
    if (from_start_) skip_priors_ = 0;
    return start_read(now);
  }
  if (r.response.error == control_error::bad_value) {
    if (size_.by_fragments) {
      size_ = {false, std::min(max_limit, row_limit_)};
    } else if (--row_limit_ == 0) {
      result_.server_error = control_error::bad_value;
      return finish(mru_outcome::server_error);
    } else {
      size_.count = std::min(size_.count, row_limit_);
    }
    return start_read(now);
  }
  if (r.response.error) {
    result_.server_error = r.response.error;
    return finish(mru_outcome::server_error);
  }
  failures_ = 0;
  first_read_ = false;
  from_start_ = false;
  skip_priors_ = 0;
  const auto m = parse_mru_response(parse_variables(r.response.data));
  take(m);
  if (done_) return;
  if (m.nonce) {
    nonce_ = *m.nonce;
    nonce_at_ = now;
  }
  if (m.now) {
    result_.now = m.now;
    return finish(mru_outcome::complete);
  }
  if (size_.by_fragments) {
    size_.count = std::min(max_frags, size_.count + 1);
  } else {
    size_.count =
        std::min({max_limit, row_limit_, std::max(size_.count + 1, size_.count * 33 / 32)});
  }
  start_read(now);
}

void mru_walk::take(const mru_response& m) {
  result_.rows_received += m.entries.size();
  result_.malformed_rows += m.malformed_rows;
  for (const auto& e : m.entries) {
    received_.push_back({e.address, e.last});
    // Continuation only offers the newest rows (after at most max_restarts skips of what
    // fits in one request): keep a window, not every row ever received.
    if (received_.size() > 2 * received_window) {
      received_.erase(received_.begin(), received_.end() - received_window);
    }
    auto it = merged_.find(e.address);
    if (it == merged_.end()) {
      if (merged_.size() >= options_.max_rows) return finish(mru_outcome::row_limit);
      it = merged_.emplace(e.address, e).first;
    } else if (later(e.last, it->second.last)) {
      it->second = e;
    } else {
      continue;
    }
    // ntpd's random decoy tags say nothing; unless asked for, they are not kept.
    if (!options_.keep_unknown_tags) {
      it->second.other.clear();
      it->second.other.shrink_to_fit();
    }
  }
}

}  // namespace ntpkit::proto
