#include "ntpkit/capture/pcap_source.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "capture/frame_builder.hpp"
#include "ntpkit/capture/frame.hpp"

using namespace ntpkit;
using namespace ntpkit::capture;
namespace f = ntpkit::test::frames;
namespace fs = std::filesystem;

namespace {

// A directory of its own for each test case, removed at the end.
struct temp_dir {
  fs::path path;
  temp_dir() {
    char name[] = "/tmp/ntpkit-capture-test-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~temp_dir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

struct seen {
  std::int64_t time_ns;
  std::uint32_t link_type;
  std::uint32_t source;
  std::uint64_t number;
  std::size_t size;
  std::uint32_t original;
};

std::vector<seen> read_all(pcap_files& files) {
  std::vector<seen> out;
  files.read([&](const frame_view& v) {
    out.push_back({v.time.time_since_epoch().count(), v.link_type, v.source, v.number,
                   v.bytes.size(), v.original_length});
    return true;
  });
  return out;
}

f::bytes request(std::uint64_t xmt) {
  return f::ipv4(f::client4, f::server4, 17, f::udp(40000, 123, f::ntp(4, 3, xmt)));
}

constexpr std::int64_t t0 = 1'764'000'000'123'456'789;

std::vector<f::record> three_records() {
  return {{t0, request(1)}, {t0 + 1'000, request(2)}, {t0 + 2'000'000'001, request(3), 200}};
}

void gzip_file(const std::string& path, const f::bytes& b) {
  gzFile gz = gzopen(path.c_str(), "wb");
  REQUIRE(gz != nullptr);
  gzwrite(gz, b.data(), static_cast<unsigned>(b.size()));
  gzclose(gz);
}

f::bytes read_bytes(const std::string& path) {
  std::FILE* fp = std::fopen(path.c_str(), "rb");
  f::bytes b;
  int ch;
  while ((ch = std::fgetc(fp)) != EOF) b.push_back(static_cast<std::uint8_t>(ch));
  std::fclose(fp);
  return b;
}

}  // namespace

TEST_CASE("pcap files with nanosecond and microsecond timestamps read at nanosecond precision") {
  temp_dir d;
  f::write_file(d.file("ns.pcap"), f::pcap_file(link::raw, three_records(), true));
  f::write_file(d.file("us.pcap"), f::pcap_file(link::raw, three_records(), false));
  pcap_files ns({d.file("ns.pcap")});
  auto v = read_all(ns);
  REQUIRE(v.size() == 3);
  CHECK(v[0].time_ns == t0);
  CHECK(v[1].time_ns == t0 + 1'000);
  CHECK(v[2].time_ns == t0 + 2'000'000'001);
  CHECK(v[2].original == 200);
  CHECK(v[0].number == 1);
  CHECK(v[2].number == 3);
  CHECK(v[0].link_type == link::raw_dlt);  // LINKTYPE_RAW 101 comes back as DLT_RAW
  CHECK(ns.files()[0].complete());
  CHECK_FALSE(ns.files()[0].pcapng);
  pcap_files us({d.file("us.pcap")});
  v = read_all(us);
  REQUIRE(v.size() == 3);
  CHECK(v[0].time_ns == t0 - 789);  // microseconds: the nanoseconds were never there
  CHECK(v[2].time_ns == t0 + 2'000'000'001 - 790);
}

TEST_CASE("pcapng with one or several interfaces of one link type reads whole") {
  temp_dir d;
  auto records = three_records();
  records[1].interface = 1;
  f::write_file(d.file("two.pcapng"),
                f::pcapng_file({{link::ethernet, 65535, 9}, {link::ethernet, 65535, 6}},
                               {{t0, f::ethernet(0x0800, request(1))},
                                {t0 + 5'000, f::ethernet(0x0800, request(2)), 0, 1},
                                {t0 + 9'000, f::ethernet(0x0800, request(3))}}));
  pcap_files files({d.file("two.pcapng")});
  const auto v = read_all(files);
  REQUIRE(v.size() == 3);
  CHECK(files.files()[0].pcapng);
  CHECK(files.files()[0].complete());
  CHECK(v[0].link_type == link::ethernet);
  CHECK(v[1].time_ns == t0 + 5'000 - 789);  // interface 1 writes microseconds (if_tsresol 6)
  CHECK(v[2].time_ns == t0 + 9'000);
}

TEST_CASE("pcapng interfaces of mixed link types stop at the second interface, frames kept") {
  // libpcap takes one link type per file; at an IDB of another type it fails the read.
  temp_dir d;
  f::bytes file;
  {
    // SHB, IDB 0 (Ethernet), an EPB on it, then IDB 1 (raw IP) and an EPB on that.
    const auto head = f::pcapng_file({{link::ethernet}}, {{t0, f::ethernet(0x0800, request(1))}});
    file = head;
    const auto second = f::pcapng_file({{link::raw}}, {{t0 + 1, request(2)}});
    // Skip the second file's SHB (28 bytes) and append its IDB and EPB (EPB's interface 0
    // becomes interface 1 of this section).
    f::bytes rest(second.begin() + 28, second.end());
    const std::size_t idb_length = rest[4] | rest[5] << 8;
    rest[idb_length + 8] = 1;
    f::append(file, rest);
  }
  f::write_file(d.file("mixed.pcapng"), file);
  pcap_files files({d.file("mixed.pcapng")});
  const auto v = read_all(files);
  CHECK(v.size() == 1);
  const auto& r = files.files()[0];
  CHECK(r.error == capture_errc::mixed_interfaces);
  CHECK(r.frames == 1);
  CHECK(r.link_type == link::ethernet);
  CHECK_FALSE(r.detail.empty());
}

TEST_CASE("a file cut inside a frame keeps the frames before the cut and says so") {
  temp_dir d;
  auto bytes = f::pcap_file(link::raw, three_records());
  bytes.resize(bytes.size() - 10);
  f::write_file(d.file("cut.pcap"), bytes);
  pcap_files files({d.file("cut.pcap")});
  const auto v = read_all(files);
  CHECK(v.size() == 2);
  CHECK(files.files()[0].error == capture_errc::cut);
  CHECK(files.files()[0].frames == 2);
  // Cut inside a record header, and the same for pcapng.
  bytes = f::pcap_file(link::raw, three_records());
  bytes.resize(24 + 16 + 76 + 7);  // inside the second record header
  f::write_file(d.file("cut2.pcap"), bytes);
  pcap_files two({d.file("cut2.pcap")});
  CHECK(read_all(two).size() == 1);
  CHECK(two.files()[0].error == capture_errc::cut);
  auto ng = f::pcapng_file({{link::raw}}, three_records());
  ng.resize(ng.size() - 3);
  f::write_file(d.file("cut.pcapng"), ng);
  pcap_files three({d.file("cut.pcapng")});
  CHECK(read_all(three).size() == 2);
  CHECK(three.files()[0].error == capture_errc::cut);
}

TEST_CASE("unreadable and non-capture files are clear errors; the other files are read") {
  temp_dir d;
  f::write_file(d.file("text.pcap"), f::bytes{'h', 'e', 'l', 'l', 'o', '\n', 0, 0, 0, 0});
  f::write_file(d.file("empty.pcap"), {});
  f::write_file(d.file("good.pcap"), f::pcap_file(link::raw, three_records()));
  pcap_files files(
      {d.file("missing.pcap"), d.file("text.pcap"), d.file("empty.pcap"), d.file("good.pcap")});
  CHECK(read_all(files).size() == 3);
  const auto& r = files.files();
  CHECK(r[0].error == std::errc::no_such_file_or_directory);
  CHECK(r[1].error == capture_errc::not_a_capture);
  CHECK_FALSE(r[1].detail.empty());
  CHECK(r[2].error == capture_errc::not_a_capture);
  CHECK(r[3].complete());
  CHECK(r[3].frames == 3);
  CHECK(std::string(capture_category().name()) == "ntpkit.capture");
}

TEST_CASE("gzip-compressed captures read as the same frames; corrupt and cut streams say so") {
  temp_dir d;
  const auto plain = f::pcap_file(link::raw, three_records());
  gzip_file(d.file("a.pcap.gz"), plain);
  gzip_file(d.file("b.pcapng.gz"), f::pcapng_file({{link::raw}}, three_records()));
  pcap_files files({d.file("a.pcap.gz")});
  const auto v = read_all(files);
  REQUIRE(v.size() == 3);
  CHECK(files.files()[0].compressed);
  CHECK(files.files()[0].complete());
  CHECK(v[2].time_ns == t0 + 2'000'000'001);
  pcap_files ng({d.file("b.pcapng.gz")});
  CHECK(read_all(ng).size() == 3);
  CHECK(ng.files()[0].pcapng);

  // A cut gzip stream: the frames before the cut, reported as a cut.
  auto gz = read_bytes(d.file("a.pcap.gz"));
  f::bytes cut(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() - 30));
  f::write_file(d.file("cut.pcap.gz"), cut);
  pcap_files c({d.file("cut.pcap.gz")});
  const auto kept = read_all(c);
  CHECK(kept.size() < 3);
  CHECK(c.files()[0].error == capture_errc::cut);
  // Corrupt deflate data after the header.
  auto bad = gz;
  for (std::size_t i = 20; i < bad.size() - 8; ++i) bad[i] ^= 0x5a;
  f::write_file(d.file("bad.pcap.gz"), bad);
  pcap_files b({d.file("bad.pcap.gz")});
  read_all(b);
  CHECK(b.files()[0].error == capture_errc::gzip_failed);
}

TEST_CASE("several files are merged in capture-time order, ties to the first listed") {
  temp_dir d;
  f::write_file(
      d.file("1.pcap"),
      f::pcap_file(link::raw, {{t0, request(1)}, {t0 + 30, request(3)}, {t0 + 50, request(5)}}));
  f::write_file(d.file("2.pcapng"),
                f::pcapng_file({{link::ethernet}}, {{t0 + 10, f::ethernet(0x0800, request(2))},
                                                    {t0 + 30, f::ethernet(0x0800, request(4))}}));
  pcap_files files({d.file("1.pcap"), d.file("2.pcapng")});
  const auto v = read_all(files);
  REQUIRE(v.size() == 5);
  const std::vector<std::pair<std::uint32_t, std::uint64_t>> order = {
      {0, 1}, {1, 1}, {0, 2}, {1, 2}, {0, 3}};
  for (std::size_t i = 0; i < v.size(); ++i) {
    CAPTURE(i);
    CHECK(v[i].source == order[i].first);
    CHECK(v[i].number == order[i].second);
    CHECK(v[i].link_type == (order[i].first == 0 ? link::raw_dlt : link::ethernet));
  }
}

TEST_CASE("a callback returning false stops the read") {
  temp_dir d;
  f::write_file(d.file("a.pcap"), f::pcap_file(link::raw, three_records()));
  pcap_files files({d.file("a.pcap")});
  int n = 0;
  CHECK(files.read([&](const frame_view&) { return ++n < 2; }) == 2);
}

TEST_CASE("the live filter compiles for Ethernet, cooked and raw links, for any port") {
  // pcap_open_dead needs no device and no privilege: what the BPF compiler accepts.
  for (const int dlt : {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW}) {
    for (const std::uint16_t port : std::initializer_list<std::uint16_t>{123, 11123, 65535}) {
      CAPTURE(dlt);
      CAPTURE(port);
      pcap_t* p = pcap_open_dead(dlt, 1024);
      REQUIRE(p != nullptr);
      bpf_program program{};
      CHECK(pcap_compile(p, &program, live_filter(port).c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0);
      pcap_freecode(&program);
      pcap_close(p);
    }
  }
}

TEST_CASE("the live filter compiles and a live capture on lo sees our own datagrams") {
  CHECK(live_filter(123).find("udp port 123") == 0);
  if (::geteuid() != 0) {
    MESSAGE("live capture skipped: needs root (CAP_NET_RAW)");
    return;
  }
  // A port of our own on 127.0.0.1: a socket bound to it keeps anyone else's traffic away.
  const int sink = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(sink, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  socklen_t len = sizeof to;
  ::getsockname(sink, reinterpret_cast<sockaddr*>(&to), &len);
  live_options o;
  o.interface = "lo";
  o.port = ntohs(to.sin_port);
  std::string detail;
  auto live = live_capture::open(o, &detail);
  REQUIRE_MESSAGE(live.has_value(), detail);
  CHECK(live->link_type() == link::ethernet);
  const int out = ::socket(AF_INET, SOCK_DGRAM, 0);
  const auto ntp = f::ntp(4, 3, 42);
  int got = 0;
  for (int round = 0; round < 50 && got < 3; ++round) {  // bounded: 50 × 100 ms at most
    if (round < 3) {
      ::sendto(out, ntp.data(), ntp.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
    auto n = live->read_some([&](const frame_view& v) {
      const auto dec = decode_frame(v.link_type, v.bytes);
      if (dec.status == frame_status::udp && dec.destination_port == o.port &&
          dec.payload.size() == 48) {
        ++got;
      }
      return true;
    });
    REQUIRE(n.has_value());
  }
  CHECK(got == 3);
  ::close(out);
  ::close(sink);
  std::string missing;
  live_options bad;
  bad.interface = "nkcap-no-such-if";
  auto none = live_capture::open(bad, &missing);
  CHECK(none.error() == capture_errc::live_failed);
  CHECK_FALSE(missing.empty());
}
