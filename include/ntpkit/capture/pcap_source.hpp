#pragma once

// Frames from capture files and live interfaces, through libpcap. libpcap's types stay inside
// lib/capture/pcap_source.cpp, the one file that includes <pcap.h>; what comes out is a
// frame_view that the pure code (capture/frame.hpp, capture/flows.hpp) takes.
//
// Files: pcap and pcapng (libpcap reads both), microsecond or nanosecond timestamps (read
// at nanosecond precision), gzip-compressed or not (told by the magic bytes, not the name).
// "-" is standard input; standard input, FIFOs and process substitution (pipes) are read
// forward only, plain pcap or pcapng (gzip from a pipe is refused with a message saying to
// decompress it first). Several files are merged in capture-time order. A file cut in the middle of a frame keeps
// the frames before the cut and reports the cut. One link type per file: libpcap's pcapng
// reader takes the link type and snapshot length of the first interface and stops with an
// error at an interface description block with another link type or snapshot length
// (reported as capture_errc::mixed_interfaces, with the frames read until then); pcapng files
// whose interfaces agree on both read whole.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::capture {

/// Why a capture could not be read (completely).
enum class capture_errc {
  not_a_capture = 1,  ///< not a pcap or pcapng file (libpcap: unknown file format)
  cut,                ///< the file ends inside a frame: the frames before it were read
  read_failed,        ///< a read error in the middle of the file
  gzip_failed,        ///< the gzip stream is corrupt
  mixed_interfaces,   ///< a pcapng interface with another link type or snaplen than the first
  live_failed,        ///< the interface could not be opened or activated (see detail)
  filter_failed,      ///< the BPF filter did not compile or could not be set
};

/// The category of capture_errc; name() is "ntpkit.capture".
NTPKIT_API const std::error_category& capture_category() noexcept;

inline std::error_code make_error_code(capture_errc e) noexcept {
  return {static_cast<int>(e), capture_category()};
}

/// One captured frame, valid during the callback only.
struct frame_view {
  proto::sys_nanoseconds time{};        ///< capture time
  std::uint32_t link_type = 0;          ///< DLT_ value (capture/frame.hpp link::)
  std::span<const std::uint8_t> bytes;  ///< the captured bytes
  std::uint32_t original_length = 0;    ///< length on the wire (>= bytes.size())
  std::uint32_t source = 0;             ///< index of the file in the list (0 for live)
  std::uint64_t number = 0;             ///< frame number in its file from 1 (Wireshark's)
};

/// Called for each frame; returns false to stop reading.
using frame_callback = std::function<bool(const frame_view&)>;

/// What became of one capture file.
struct file_report {
  std::string path;
  std::uint32_t link_type = 0;  ///< of the file (the first interface for pcapng)
  bool compressed = false;      ///< read through gzip
  bool pcapng = false;
  std::uint64_t frames = 0;  ///< frames handed out
  std::error_code error;     ///< open or read error, capture_errc or a system error
  std::string detail;        ///< libpcap's or zlib's own message for `error`, if any
  bool complete() const noexcept { return !error; }
};

/// Capture files read merged in time order. Move-only.
class NTPKIT_API pcap_files {
 public:
  /// Opens every file of `paths`. A file that cannot be opened (a system error such as
  /// ENOENT, or capture_errc::not_a_capture, gzip_failed) is reported in files() and left
  /// out; the others are read.
  explicit pcap_files(std::vector<std::string> paths);
  ~pcap_files();
  pcap_files(pcap_files&&) noexcept;
  pcap_files& operator=(pcap_files&&) noexcept;

  /// Hands every frame of every file to `on_frame`, the earliest capture time first (ties:
  /// the file listed first). Returns the number of frames handed out. A read error or cut
  /// in one file ends that file (reported in files()) and the others go on.
  std::uint64_t read(const frame_callback& on_frame);

  /// One report per path, in the order given.
  const std::vector<file_report>& files() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Options of a live capture.
struct live_options {
  std::string interface;       ///< "eth0", "lo", "any"
  std::uint16_t port = 123;    ///< NTP port for the BPF filter
  int snapshot_length = 1024;  ///< bytes kept of each frame (NTP with NTS fits)
  int buffer_bytes = 4 << 20;  ///< kernel ring buffer
  bool promiscuous = false;
  std::chrono::milliseconds poll_timeout{100};  ///< longest wait in read_some
};

/// The BPF filter a live capture sets for `port`: UDP to or from it, every IPv4 or IPv6
/// fragment (their UDP header may be absent), and the tunnels frame.hpp decodes (IP-in-IP,
/// 6in4, GRE, VXLAN), inside which BPF cannot look.
NTPKIT_API std::string live_filter(std::uint16_t port);

/// A live capture on one interface in immediate mode, nanosecond timestamps. Move-only.
class NTPKIT_API live_capture {
 public:
  /// Opens and activates `options.interface` with live_filter(options.port). Errors:
  /// capture_errc::live_failed (no such device, no permission: detail() says which),
  /// capture_errc::filter_failed.
  static result<live_capture> open(const live_options& options, std::string* detail = nullptr);
  ~live_capture();
  live_capture(live_capture&&) noexcept;
  live_capture& operator=(live_capture&&) noexcept;

  /// Waits up to poll_timeout for frames and hands each to `on_frame` (at most
  /// `max_frames`). Returns how many were handed out (0 on timeout), or
  /// capture_errc::read_failed.
  result<std::size_t> read_some(const frame_callback& on_frame, int max_frames = 4096);

  /// The link type of the interface.
  std::uint32_t link_type() const noexcept;
  /// A descriptor that becomes readable when frames wait (for poll/epoll), or -1.
  int selectable_fd() const noexcept;

  /// Kernel counters: frames received by the filter and dropped for lack of buffer.
  struct counters {
    std::uint64_t received = 0, dropped = 0, interface_dropped = 0;
  };
  counters stats() const noexcept;

 private:
  struct impl;
  explicit live_capture(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace ntpkit::capture

template <>
struct std::is_error_code_enum<ntpkit::capture::capture_errc> : std::true_type {};
