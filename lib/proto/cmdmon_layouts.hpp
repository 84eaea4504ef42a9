#pragma once

// The reply data layouts of candm.h, one visit() per struct, fields in wire order (the offsets
// are drawn in cmdmon_reports.hpp). V is a cmdmon::detail reader, writer or sizer; S is the
// struct, const for the writer and sizer.

#include "cmdmon_fields.hpp"
#include "ntpkit/proto/cmdmon_reports.hpp"

namespace ntpkit::proto::cmdmon::detail {

template <class V, class S>
void visit_n_sources(V& v, S& s) {
  v.u32(s.n_sources);
}

template <class V, class S>
void visit_source_data(V& v, S& s) {
  v.ip(s.ip_addr);
  v.i16(s.poll);
  v.u16(s.stratum);
  v.u16(s.state);
  v.u16(s.mode);
  v.u16(s.flags);
  v.u16(s.reachability);
  v.u32(s.since_sample);
  v.f(s.orig_latest_meas);
  v.f(s.latest_meas);
  v.f(s.latest_meas_err);
}

template <class V, class S>
void visit_tracking(V& v, S& s) {
  v.u32(s.ref_id);
  v.ip(s.ip_addr);
  v.u16(s.stratum);
  v.u16(s.leap_status);
  v.ts(s.ref_time);
  v.f(s.current_correction);
  v.f(s.last_offset);
  v.f(s.rms_offset);
  v.f(s.freq_ppm);
  v.f(s.resid_freq_ppm);
  v.f(s.skew_ppm);
  v.f(s.root_delay);
  v.f(s.root_dispersion);
  v.f(s.last_update_interval);
}

template <class V, class S>
void visit_sourcestats(V& v, S& s) {
  v.u32(s.ref_id);
  v.ip(s.ip_addr);
  v.u32(s.n_samples);
  v.u32(s.n_runs);
  v.u32(s.span_seconds);
  v.f(s.sd);
  v.f(s.resid_freq_ppm);
  v.f(s.skew_ppm);
  v.f(s.est_offset);
  v.f(s.est_offset_err);
}

template <class V, class S>
void visit_rtc(V& v, S& s) {
  v.ts(s.ref_time);
  v.u16(s.n_samples);
  v.u16(s.n_runs);
  v.u32(s.span_seconds);
  v.f(s.rtc_seconds_fast);
  v.f(s.rtc_gain_rate_ppm);
}

template <class V, class S>
void visit_manual_timestamp(V& v, S& s) {
  v.f(s.offset);
  v.f(s.dfreq_ppm);
  v.f(s.new_afreq_ppm);
}

// One record; `version` 2 or 3.
template <class V, class S>
void visit_client(V& v, S& c, int version) {
  v.ip(c.ip);
  v.u32(c.ntp_hits);
  if (version >= 3) v.u32(c.nke_hits);
  v.u32(c.cmd_hits);
  v.u32(c.ntp_drops);
  if (version >= 3) v.u32(c.nke_drops);
  v.u32(c.cmd_drops);
  v.i8(c.ntp_interval);
  if (version >= 3) v.i8(c.nke_interval);
  v.i8(c.cmd_interval);
  v.i8(c.ntp_timeout_interval);
  if (version < 3) v.u8(c.pad);
  v.u32(c.last_ntp_hit_ago);
  if (version >= 3) v.u32(c.last_nke_hit_ago);
  v.u32(c.last_cmd_hit_ago);
}

template <class V, class S>
void visit_client_accesses(V& v, S& s) {
  v.u32(s.n_indices);
  v.u32(s.next_index);
  v.u32(s.n_clients);
  for (auto& c : s.clients) visit_client(v, c, s.reply_version);
}

// A counter: u32 in versions 1-3, Integer64 in version 4.
template <class V, class T>
void counter(V& v, T& x, int version) {
  if (version >= 4) {
    v.i64(x);
  } else {
    v.u32(x);
  }
}

template <class V, class S>
void visit_server_stats(V& v, S& s) {
  const int n = s.reply_version;
  counter(v, s.ntp_hits, n);
  if (n >= 2) counter(v, s.nke_hits, n);
  counter(v, s.cmd_hits, n);
  counter(v, s.ntp_drops, n);
  if (n >= 2) counter(v, s.nke_drops, n);
  counter(v, s.cmd_drops, n);
  counter(v, s.log_drops, n);
  if (n >= 2) counter(v, s.ntp_auth_hits, n);
  if (n >= 3) {
    counter(v, s.ntp_interleaved_hits, n);
    counter(v, s.ntp_timestamps, n);
    counter(v, s.ntp_span_seconds, n);
  }
  if (n >= 4) {
    v.i64(s.ntp_daemon_rx_timestamps);
    v.i64(s.ntp_daemon_tx_timestamps);
    v.i64(s.ntp_kernel_rx_timestamps);
    v.i64(s.ntp_kernel_tx_timestamps);
    v.i64(s.ntp_hw_rx_timestamps);
    v.i64(s.ntp_hw_tx_timestamps);
    for (auto& r : s.reserved) v.i64(r);
  }
}

template <class V, class S>
void visit_manual_list(V& v, S& s) {
  v.u32(s.n_samples);
  for (auto& m : s.samples) {
    v.ts(m.when);
    v.f(m.slewed_offset);
    v.f(m.orig_offset);
    v.f(m.residual);
  }
}

template <class V, class S>
void visit_activity(V& v, S& s) {
  v.i32(s.online);
  v.i32(s.offline);
  v.i32(s.burst_online);
  v.i32(s.burst_offline);
  v.i32(s.unresolved);
}

template <class V, class S>
void visit_smoothing(V& v, S& s) {
  v.u32(s.flags);
  v.f(s.offset);
  v.f(s.freq_ppm);
  v.f(s.wander_ppm);
  v.f(s.last_update_ago);
  v.f(s.remaining_time);
}

template <class V, class S>
void visit_ntp_data(V& v, S& s) {
  v.ip(s.remote_addr);
  v.ip(s.local_addr);
  v.u16(s.remote_port);
  v.u8(s.leap);
  v.u8(s.version);
  v.u8(s.mode);
  v.u8(s.stratum);
  v.i8(s.poll);
  v.i8(s.precision);
  v.f(s.root_delay);
  v.f(s.root_dispersion);
  v.u32(s.ref_id);
  v.ts(s.ref_time);
  v.f(s.offset);
  v.f(s.peer_delay);
  v.f(s.peer_dispersion);
  v.f(s.response_time);
  v.f(s.jitter_asymmetry);
  v.u16(s.flags);
  v.u8(s.tx_tss_char);
  v.u8(s.rx_tss_char);
  v.u32(s.total_tx_count);
  v.u32(s.total_rx_count);
  v.u32(s.total_valid_count);
  v.u32(s.total_good_count);
  if (s.reply_version >= 2) {
    v.u32(s.total_kernel_tx_ts);
    v.u32(s.total_kernel_rx_ts);
    v.u32(s.total_hw_tx_ts);
    v.u32(s.total_hw_rx_ts);
  }
  const int reserved = s.reply_version >= 2 ? 4 : 3;
  for (int i = 0; i < reserved; ++i) v.u32(s.reserved[static_cast<std::size_t>(i)]);
}

template <class V, class S>
void visit_ntp_source_name(V& v, S& s) {
  v.raw(s.name);
}

template <class V, class S>
void visit_auth_data(V& v, S& s) {
  v.u16(s.mode);
  v.u16(s.key_type);
  v.u32(s.key_id);
  v.u16(s.key_length);
  v.u16(s.ke_attempts);
  v.u32(s.last_ke_ago);
  v.u16(s.cookies);
  v.u16(s.cookie_length);
  v.u16(s.nak);
  v.u16(s.pad);
}

template <class V, class S>
void visit_select_data(V& v, S& s) {
  v.u32(s.ref_id);
  v.ip(s.ip_addr);
  v.u8(s.state_char);
  v.u8(s.authentication);
  v.u8(s.leap);
  v.u8(s.pad);
  v.u16(s.conf_options);
  v.u16(s.eff_options);
  v.u32(s.last_sample_ago);
  v.f(s.score);
  v.f(s.lo_limit);
  v.f(s.hi_limit);
}

/// Walks the layout of whichever struct `s` is (const or not).
template <class V, class S>
void visit_body(V& v, S& s) {
  using T = std::remove_const_t<S>;
  if constexpr (std::is_same_v<T, null_reply>) {
  } else if constexpr (std::is_same_v<T, n_sources_reply>) {
    visit_n_sources(v, s);
  } else if constexpr (std::is_same_v<T, source_data>) {
    visit_source_data(v, s);
  } else if constexpr (std::is_same_v<T, tracking>) {
    visit_tracking(v, s);
  } else if constexpr (std::is_same_v<T, sourcestats>) {
    visit_sourcestats(v, s);
  } else if constexpr (std::is_same_v<T, rtc_report>) {
    visit_rtc(v, s);
  } else if constexpr (std::is_same_v<T, manual_timestamp>) {
    visit_manual_timestamp(v, s);
  } else if constexpr (std::is_same_v<T, client_accesses>) {
    visit_client_accesses(v, s);
  } else if constexpr (std::is_same_v<T, server_stats>) {
    visit_server_stats(v, s);
  } else if constexpr (std::is_same_v<T, manual_list>) {
    visit_manual_list(v, s);
  } else if constexpr (std::is_same_v<T, activity>) {
    visit_activity(v, s);
  } else if constexpr (std::is_same_v<T, smoothing>) {
    visit_smoothing(v, s);
  } else if constexpr (std::is_same_v<T, ntp_data>) {
    visit_ntp_data(v, s);
  } else if constexpr (std::is_same_v<T, ntp_source_name>) {
    visit_ntp_source_name(v, s);
  } else if constexpr (std::is_same_v<T, auth_data>) {
    visit_auth_data(v, s);
  } else {
    static_assert(std::is_same_v<T, select_data>);
    visit_select_data(v, s);
  }
}

}  // namespace ntpkit::proto::cmdmon::detail
