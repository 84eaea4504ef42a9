// Walks over several cmdmon requests: the sources and the client log, as chronyc makes them
// (client.c process_cmd_sources / process_cmd_clients).

#include <variant>

#include "ntpkit/proto/cmdmon_query.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

template <class Outcome>
void merge(Outcome& into, const cmdmon_outcome& q) {
  into.requests_sent += q.requests_sent;
  into.version = q.version;
  for (const auto& [reason, count] : q.ignored) into.ignored.add(reason, count);
}

template <class Outcome>
void fail(Outcome& into, const cmdmon_outcome& q) {
  into.kind = q.kind;
  into.error = q.error;
  into.failed_reply = q.reply;
}

bool is_per_source(cmdmon::command c) {
  return c == cmdmon::command::source_data || c == cmdmon::command::sourcestats ||
         c == cmdmon::command::select_data;
}

}  // namespace

std::string_view cmdmon_clients_stop_name(cmdmon_clients_stop s) noexcept {
  switch (s) {
    case cmdmon_clients_stop::pending:
      return "pending";
    case cmdmon_clients_stop::complete:
      return "complete";
    case cmdmon_clients_stop::max_records:
      return "max_records";
    case cmdmon_clients_stop::max_requests:
      return "max_requests";
    case cmdmon_clients_stop::no_progress:
      return "no_progress";
    case cmdmon_clients_stop::failed:
      return "failed";
  }
  return "unknown";
}

// --- sources ---

cmdmon_sources_walk::cmdmon_sources_walk(const cmdmon_sources_plan& plan)
    : plan_(plan), next_sequence_(plan.first_sequence) {
  outcome_.version = plan_.timing.version;
  if (!is_per_source(plan_.per_source)) {
    outcome_.kind = cmdmon_outcome_kind::bad_reply;
    outcome_.error = errc::cmdmon_unsupported_command;
    return;
  }
  start({.code = cmdmon::command::n_sources});
}

void cmdmon_sources_walk::start(const cmdmon::request& r) {
  cmdmon_timing t = plan_.timing;
  t.version = outcome_.version;  // a version 5 fallback carries over, as in chronyc
  query_.emplace(cmdmon_plan{r, next_sequence_++, t});
}

void cmdmon_sources_walk::advance() {
  if (!query_ || !query_->done()) return;
  const cmdmon_query q = std::move(*query_);
  query_.reset();
  const auto& o = q.outcome();
  merge(outcome_, o);
  if (o.kind != cmdmon_outcome_kind::reply) return fail(outcome_, o);
  const auto& body = o.reply->body;
  if (q.plan().request.code == cmdmon::command::n_sources) {
    const auto n = std::get<cmdmon::n_sources_reply>(body).n_sources;
    outcome_.n_sources = n;
    outcome_.truncated = n > plan_.max_sources;
  } else {
    outcome_.sources.push_back(body);
    ++index_;
  }
  const auto count = outcome_.truncated ? plan_.max_sources : *outcome_.n_sources;
  if (index_ >= count) {
    outcome_.kind = cmdmon_outcome_kind::reply;
    return;
  }
  start({.code = plan_.per_source, .index = index_});
}

// The current query's action; when it ends, advance() starts the next query (whose first
// action is a send) or ends the walk, so the loop turns at most twice.
session_action cmdmon_sources_walk::next(steady_time now) {
  while (!done() && query_) {
    auto a = query_->next(now);
    if (!std::holds_alternative<finished>(a)) return a;
    advance();
  }
  return finished{};
}

void cmdmon_sources_walk::on_sent(const sent_meta& m) {
  if (query_) query_->on_sent(m);
}

void cmdmon_sources_walk::on_send_failed(std::error_code ec) {
  if (!query_) return;
  query_->on_send_failed(ec);
  advance();
}

void cmdmon_sources_walk::on_datagram(std::span<const std::uint8_t> b, const datagram_meta& m) {
  if (!query_) return;
  query_->on_datagram(b, m);
  advance();
}

void cmdmon_sources_walk::on_transport_error(std::error_code ec) {
  if (!query_) return;
  query_->on_transport_error(ec);
  advance();
}

// --- clients ---

cmdmon_clients_walk::cmdmon_clients_walk(const cmdmon_clients_plan& plan)
    : plan_(plan), next_sequence_(plan.first_sequence) {
  outcome_.version = plan_.timing.version;
  outcome_.next_index = plan_.first_index;
  if (plan_.max_requests == 0 || plan_.max_records == 0) {
    outcome_.kind = cmdmon_outcome_kind::reply;
    outcome_.stop = plan_.max_requests == 0 ? cmdmon_clients_stop::max_requests
                                            : cmdmon_clients_stop::max_records;
    return;
  }
  start();
}

void cmdmon_clients_walk::start() {
  cmdmon_timing t = plan_.timing;
  t.version = outcome_.version;
  const cmdmon::request r{.code = cmdmon::command::client_accesses_by_index3,
                          .first_index = outcome_.next_index,
                          .n_clients = cmdmon::max_client_accesses,
                          .min_hits = plan_.min_hits,
                          .reset = plan_.reset ? 1u : 0u};
  query_.emplace(cmdmon_plan{r, next_sequence_++, t});
  ++requests_;
}

void cmdmon_clients_walk::advance() {
  if (!query_ || !query_->done()) return;
  const cmdmon_query q = std::move(*query_);
  query_.reset();
  const auto& o = q.outcome();
  merge(outcome_, o);
  if (o.kind != cmdmon_outcome_kind::reply) {
    fail(outcome_, o);
    outcome_.stop = cmdmon_clients_stop::failed;
    return;
  }
  const auto& page = std::get<cmdmon::client_accesses>(o.reply->body);
  outcome_.n_indices = page.n_indices;
  for (const auto& c : page.valid()) {
    if (c.ip.kind() == cmdmon::address_family::unspec) {
      ++outcome_.skipped_unspec;  // "could not be found in the daemon's tables" (chronyc)
    } else if (outcome_.clients.size() < plan_.max_records) {
      outcome_.clients.push_back(c);
    }
  }
  const auto asked_from = q.plan().request.first_index;
  outcome_.next_index = page.next_index;
  outcome_.kind = cmdmon_outcome_kind::reply;
  if (page.next_index >= page.n_indices || page.n_clients < cmdmon::max_client_accesses) {
    outcome_.stop = cmdmon_clients_stop::complete;
  } else if (page.next_index <= asked_from) {
    outcome_.kind = cmdmon_outcome_kind::bad_reply;
    outcome_.error = errc::cmdmon_no_progress;
    outcome_.failed_reply = o.reply;
    outcome_.stop = cmdmon_clients_stop::no_progress;
  } else if (outcome_.clients.size() >= plan_.max_records) {
    outcome_.stop = cmdmon_clients_stop::max_records;
  } else if (requests_ >= plan_.max_requests) {
    outcome_.stop = cmdmon_clients_stop::max_requests;
  } else {
    start();
  }
}

// The current query's action; when it ends, advance() starts the next query (whose first
// action is a send) or ends the walk, so the loop turns at most twice.
session_action cmdmon_clients_walk::next(steady_time now) {
  while (!done() && query_) {
    auto a = query_->next(now);
    if (!std::holds_alternative<finished>(a)) return a;
    advance();
  }
  return finished{};
}

void cmdmon_clients_walk::on_sent(const sent_meta& m) {
  if (query_) query_->on_sent(m);
}

void cmdmon_clients_walk::on_send_failed(std::error_code ec) {
  if (!query_) return;
  query_->on_send_failed(ec);
  advance();
}

void cmdmon_clients_walk::on_datagram(std::span<const std::uint8_t> b, const datagram_meta& m) {
  if (!query_) return;
  query_->on_datagram(b, m);
  advance();
}

void cmdmon_clients_walk::on_transport_error(std::error_code ec) {
  if (!query_) return;
  query_->on_transport_error(ec);
  advance();
}

}  // namespace ntpkit::proto
