// The one file of ntpkit that includes <pcap.h> (docs/architecture.md): capture files and
// live interfaces through libpcap, handed out as frame_views.

#include "ntpkit/capture/pcap_source.hpp"

#include <pcap/pcap.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace ntpkit::capture {
namespace {

class capture_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "ntpkit.capture"; }
  std::string message(int v) const override {
    switch (static_cast<capture_errc>(v)) {
      case capture_errc::not_a_capture:
        return "not a pcap or pcapng file";
      case capture_errc::cut:
        return "the file ends inside a frame";
      case capture_errc::read_failed:
        return "read error";
      case capture_errc::gzip_failed:
        return "corrupt gzip stream";
      case capture_errc::mixed_interfaces:
        return "pcapng interfaces of different link types or snapshot lengths";
      case capture_errc::live_failed:
        return "cannot capture on the interface";
      case capture_errc::filter_failed:
        return "cannot set the capture filter";
    }
    return "unknown capture error";
  }
};

// gzip: zlib decompresses into a stdio stream made with glibc's fopencookie, which libpcap
// reads through pcap_fopen_offline like any file. No temporary file (a capture can be larger
// than /tmp), no thread or pipe, and libpcap never seeks in an offline file, so a stream that
// can only be read forward is enough. The cookie outlives the FILE: it keeps zlib's last
// error for the report after libpcap has failed a read.
struct gzip_cookie {
  gzFile gz = nullptr;
  int error = Z_OK;  // zlib's error after a failed gzread
  std::string message;
};

ssize_t gzip_read(void* cookie, char* buf, size_t size) {
  auto* c = static_cast<gzip_cookie*>(cookie);
  const int n = gzread(c->gz, buf, static_cast<unsigned>(std::min<size_t>(size, INT_MAX)));
  if (n < 0) {
    int code = Z_OK;
    const char* text = gzerror(c->gz, &code);
    c->error = code;
    c->message = text ? text : "";
    return -1;
  }
  return n;
}

int gzip_close(void* cookie) {
  auto* c = static_cast<gzip_cookie*>(cookie);
  const int rc = gzclose_r(c->gz);
  c->gz = nullptr;
  return rc == Z_OK ? 0 : EOF;
}

// A pipe or stdin ("-"): the first bytes, read to tell the format, are handed to libpcap again
// before the rest of the descriptor; the stream only reads forward, as libpcap needs.
struct pipe_cookie {
  int fd = -1;
  char head[4] = {};
  std::size_t n = 0, pos = 0;
};

ssize_t pipe_read(void* cookie, char* buf, size_t size) {
  auto* c = static_cast<pipe_cookie*>(cookie);
  if (c->pos < c->n) {
    const std::size_t k = std::min(size, c->n - c->pos);
    std::memcpy(buf, c->head + c->pos, k);
    c->pos += k;
    return static_cast<ssize_t>(k);
  }
  // EINTR (SIGINT, SIGTERM: the program stops reading) is a failed read, not a retry.
  return ::read(c->fd, buf, size);
}

int pipe_close(void* cookie) {
  auto* c = static_cast<pipe_cookie*>(cookie);
  const int rc = c->fd >= 0 ? ::close(c->fd) : 0;
  delete c;
  return rc == 0 ? 0 : EOF;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The first four bytes of `path`, or fewer.
std::string magic_of(std::FILE* f) {
  char head[4] = {};
  const std::size_t n = std::fread(head, 1, sizeof head, f);
  std::rewind(f);
  return std::string(head, n);
}

constexpr std::string_view pcapng_magic("\x0a\x0d\x0d\x0a", 4);

}  // namespace

const std::error_category& capture_category() noexcept {
  static const capture_category_impl category;
  return category;
}

// One open file and the frame it has ready (valid until the next pcap_next_ex on it).
struct open_file {
  pcap_t* pcap = nullptr;
  std::unique_ptr<gzip_cookie> gzip;
  std::size_t report = 0;  // index into files_
  const pcap_pkthdr* header = nullptr;
  const std::uint8_t* data = nullptr;
  std::uint64_t number = 0;
  proto::sys_nanoseconds time{};
};

struct pcap_files::impl {
  std::vector<file_report> files;
  std::vector<open_file> open;
  ~impl() {
    for (auto& f : open) {
      if (f.pcap) pcap_close(f.pcap);
    }
  }
  void open_one(std::size_t index);
  bool advance(open_file& f);
  void fail(open_file& f, const char* pcap_message);
};

// A stream over a pipe or stdin with its first bytes kept for libpcap (pipe_cookie), or null
// with `r` saying why.
std::FILE* open_pipe(int fd, file_report& r) {
  auto* c = new pipe_cookie;
  c->fd = fd;
  while (c->n < sizeof c->head) {
    const ssize_t got = ::read(fd, c->head + c->n, sizeof c->head - c->n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    c->n += static_cast<std::size_t>(got);
  }
  const std::string_view head(c->head, c->n);
  if (starts_with(head, "\x1f\x8b")) {
    r.compressed = true;
    r.error = capture_errc::gzip_failed;
    r.detail = "gzip-compressed data from a pipe: decompress it first (zcat FILE | ntpclients "
               "pcap -)";
    pipe_close(c);
    return nullptr;
  }
  r.pcapng = head == pcapng_magic;
  std::FILE* stream = fopencookie(c, "rb", {pipe_read, nullptr, nullptr, pipe_close});
  if (!stream) {
    r.error = std::error_code(errno, std::generic_category());
    pipe_close(c);
  }
  return stream;
}

void pcap_files::impl::open_one(std::size_t index) {
  file_report& r = files[index];
  open_file f;
  f.report = index;
  // "-" is standard input; a pipe (process substitution, a FIFO) cannot be rewound.
  const int fd = r.path == "-" ? ::dup(STDIN_FILENO) : ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.error = std::error_code(errno, std::generic_category());
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    r.error = std::make_error_code(std::errc::is_a_directory);
    return;
  }
  std::FILE* raw = nullptr;
  if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
    raw = open_pipe(fd, r);
    if (!raw) return;
  } else {
    raw = ::fdopen(fd, "rb");
    if (!raw) {
      r.error = std::error_code(errno, std::generic_category());
      ::close(fd);
      return;
    }
  }
  std::FILE* stream = raw;
  if (!S_ISREG(st.st_mode)) {
    // open_pipe has told the format.
  } else if (starts_with(magic_of(raw), "\x1f\x8b")) {
    r.compressed = true;
    f.gzip = std::make_unique<gzip_cookie>();
    // zlib gets a descriptor of its own, from the start of the file.
    const int fd = ::dup(fileno(raw));
    std::fclose(raw);
    if (fd >= 0) ::lseek(fd, 0, SEEK_SET);
    f.gzip->gz = fd >= 0 ? gzdopen(fd, "rb") : nullptr;
    if (!f.gzip->gz) {
      if (fd >= 0) ::close(fd);
      r.error = capture_errc::gzip_failed;
      return;
    }
    gzbuffer(f.gzip->gz, 1 << 17);
    char head[4] = {};
    const int n = gzread(f.gzip->gz, head, sizeof head);
    r.pcapng = n == 4 && std::string_view(head, 4) == pcapng_magic;
    gzrewind(f.gzip->gz);
    stream = fopencookie(f.gzip.get(), "rb", {gzip_read, nullptr, nullptr, gzip_close});
    if (!stream) {
      gzclose_r(f.gzip->gz);
      r.error = std::error_code(errno, std::generic_category());
      return;
    }
  } else {
    r.pcapng = magic_of(raw) == pcapng_magic;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  f.pcap =
      stream ? pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO, errbuf)
             : nullptr;
  if (!f.pcap) {
    if (stream) std::fclose(stream);  // pcap_fopen_offline leaves it to the caller on failure
    r.error =
        f.gzip && f.gzip->error != Z_OK ? capture_errc::gzip_failed : capture_errc::not_a_capture;
    r.detail = f.gzip && !f.gzip->message.empty() ? f.gzip->message : errbuf;
    return;
  }
  r.link_type = static_cast<std::uint32_t>(pcap_datalink(f.pcap));
  open.push_back(std::move(f));
  if (!advance(open.back())) open.pop_back();
}

// Reads the next frame of `f`; false at its end (or error, reported).
bool pcap_files::impl::advance(open_file& f) {
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(f.pcap, &header, &data);
  if (rc == 1) {
    f.header = header;
    f.data = data;
    ++f.number;
    using std::chrono::nanoseconds;
    using std::chrono::seconds;
    f.time = proto::sys_nanoseconds(seconds(header->ts.tv_sec) + nanoseconds(header->ts.tv_usec));
    return true;
  }
  if (rc == PCAP_ERROR) fail(f, pcap_geterr(f.pcap));
  pcap_close(f.pcap);
  f.pcap = nullptr;
  return false;
}

// Types a read error from libpcap's message, the only place it says which one it was.
void pcap_files::impl::fail(open_file& f, const char* pcap_message) {
  file_report& r = files[f.report];
  const std::string_view text = pcap_message ? pcap_message : "";
  r.detail = std::string(text);
  if (f.gzip && f.gzip->error != Z_OK) {
    // A gzip stream that ends early is a cut file too; anything else is corruption.
    r.error = f.gzip->error == Z_BUF_ERROR ? capture_errc::cut : capture_errc::gzip_failed;
    r.detail = f.gzip->message;
  } else if (text.find("truncated") != std::string_view::npos) {
    r.error = capture_errc::cut;  // "truncated dump file; tried to read ..."
  } else if (starts_with(text, "an interface has a")) {
    r.error = capture_errc::mixed_interfaces;  // "... different from ... the first interface"
  } else {
    r.error = capture_errc::read_failed;
  }
}

pcap_files::pcap_files(std::vector<std::string> paths) : impl_(std::make_unique<impl>()) {
  impl_->files.resize(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    impl_->files[i].path = std::move(paths[i]);
    impl_->open_one(i);
  }
}

pcap_files::~pcap_files() = default;
pcap_files::pcap_files(pcap_files&&) noexcept = default;
pcap_files& pcap_files::operator=(pcap_files&&) noexcept = default;

const std::vector<file_report>& pcap_files::files() const noexcept { return impl_->files; }

std::uint64_t pcap_files::read(const frame_callback& on_frame) {
  auto& open = impl_->open;
  std::uint64_t handed = 0;
  while (!open.empty()) {
    // The earliest frame; with few files a scan beats a heap.
    std::size_t pick = 0;
    for (std::size_t i = 1; i < open.size(); ++i) {
      if (open[i].time < open[pick].time) pick = i;
    }
    open_file& f = open[pick];
    frame_view v;
    v.time = f.time;
    v.link_type = impl_->files[f.report].link_type;
    v.bytes = std::span<const std::uint8_t>(f.data, f.header->caplen);
    v.original_length = f.header->len;
    v.source = static_cast<std::uint32_t>(f.report);
    v.number = f.number;
    ++impl_->files[f.report].frames;
    ++handed;
    const bool go_on = on_frame(v);
    if (!impl_->advance(f)) open.erase(open.begin() + static_cast<std::ptrdiff_t>(pick));
    if (!go_on) break;
  }
  return handed;
}

// Live capture ---------------------------------------------------------------------------

std::string live_filter(std::uint16_t port) {
  const std::string p = std::to_string(port);
  // Fragments: IPv4 MF or offset set; IPv6 with a fragment header right after the fixed one
  // (BPF cannot walk an extension chain). Tunnels: their inner UDP is invisible to BPF.
  return "udp port " + p + " or (ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)" +
         " or ip proto 4 or ip proto 41 or ip proto 47 or ip6 proto 4 or ip6 proto 41" +
         " or ip6 proto 47 or udp dst port 4789";
}

struct live_capture::impl {
  pcap_t* pcap = nullptr;
  bool nanoseconds = true;
  std::uint64_t frames = 0;  // numbers handed out so far
  int timeout_ms = 100;      // longest wait of read_some
  ~impl() {
    if (pcap) pcap_close(pcap);
  }
};

live_capture::live_capture(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
live_capture::~live_capture() = default;
live_capture::live_capture(live_capture&&) noexcept = default;
live_capture& live_capture::operator=(live_capture&&) noexcept = default;

namespace {

// Sets what pcap_create left open; false (with the message) when activation fails.
bool activate(pcap_t* p, const live_options& o, bool& nanoseconds, std::string& detail) {
  pcap_set_snaplen(p, o.snapshot_length);
  pcap_set_promisc(p, o.promiscuous ? 1 : 0);
  pcap_set_timeout(p, static_cast<int>(o.poll_timeout.count()));
  pcap_set_buffer_size(p, o.buffer_bytes);
  // Frames come as they arrive, not when a ring block fills: timestamps and per-second
  // rates stay right at low packet rates.
  pcap_set_immediate_mode(p, 1);
  nanoseconds = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
  const int rc = pcap_activate(p);
  if (rc < 0) {
    detail = rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc);
    return false;
  }
  return true;
}

}  // namespace

result<live_capture> live_capture::open(const live_options& o, std::string* detail) {
  std::string message;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  auto state = std::make_unique<impl>();
  state->pcap = pcap_create(o.interface.c_str(), errbuf);
  if (!state->pcap) {
    if (detail) *detail = errbuf;
    return capture_errc::live_failed;
  }
  if (!activate(state->pcap, o, state->nanoseconds, message)) {
    if (detail) *detail = message;
    return capture_errc::live_failed;
  }
  bpf_program program{};
  const std::string filter = live_filter(o.port);
  if (pcap_compile(state->pcap, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    if (detail) *detail = pcap_geterr(state->pcap);
    return capture_errc::filter_failed;
  }
  const int set = pcap_setfilter(state->pcap, &program);
  pcap_freecode(&program);
  if (set != 0) {
    if (detail) *detail = pcap_geterr(state->pcap);
    return capture_errc::filter_failed;
  }
  // libpcap's Linux reader in blocking mode waits again after its timeout until a frame
  // comes: with no traffic read_some would never return. Non-blocking, with our own poll.
  if (pcap_setnonblock(state->pcap, 1, errbuf) != 0) {
    if (detail) *detail = errbuf;
    return capture_errc::live_failed;
  }
  state->timeout_ms = static_cast<int>(std::clamp<long long>(o.poll_timeout.count(), 0, 60000));
  return live_capture(std::move(state));
}

namespace {

struct dispatch_context {
  const frame_callback* on_frame;
  pcap_t* pcap;
  std::uint32_t link_type;
  bool nanoseconds;
  std::uint64_t* number;
};

void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  auto* c = reinterpret_cast<dispatch_context*>(user);
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  frame_view v;
  const std::int64_t sub = h->ts.tv_usec;
  v.time = proto::sys_nanoseconds(seconds(h->ts.tv_sec) +
                                  nanoseconds(c->nanoseconds ? sub : sub * 1000));
  v.link_type = c->link_type;
  v.bytes = std::span<const std::uint8_t>(bytes, h->caplen);
  v.original_length = h->len;
  v.number = ++*c->number;
  if (!(*c->on_frame)(v)) pcap_breakloop(c->pcap);
}

}  // namespace

result<std::size_t> live_capture::read_some(const frame_callback& on_frame, int max_frames) {
  dispatch_context c{&on_frame, impl_->pcap, link_type(), impl_->nanoseconds, &impl_->frames};
  int n = pcap_dispatch(impl_->pcap, max_frames, on_packet, reinterpret_cast<u_char*>(&c));
  if (n == 0) {
    // Nothing waiting: wait for the descriptor (a signal ends the wait early), then read.
    pollfd fd{pcap_get_selectable_fd(impl_->pcap), POLLIN, 0};
    if (fd.fd >= 0 && ::poll(&fd, 1, impl_->timeout_ms) > 0) {
      n = pcap_dispatch(impl_->pcap, max_frames, on_packet, reinterpret_cast<u_char*>(&c));
    }
  }
  if (n == PCAP_ERROR) return capture_errc::read_failed;
  return static_cast<std::size_t>(std::max(n, 0));
}

std::uint32_t live_capture::link_type() const noexcept {
  return static_cast<std::uint32_t>(pcap_datalink(impl_->pcap));
}

int live_capture::selectable_fd() const noexcept { return pcap_get_selectable_fd(impl_->pcap); }

live_capture::counters live_capture::stats() const noexcept {
  pcap_stat s{};
  counters c;
  if (pcap_stats(impl_->pcap, &s) == 0) {
    c.received = s.ps_recv;
    c.dropped = s.ps_drop;
    c.interface_dropped = s.ps_ifdrop;
  }
  return c;
}

}  // namespace ntpkit::capture
