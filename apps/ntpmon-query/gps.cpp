#include "gps.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

namespace ntpkit::apps {
namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

constexpr std::size_t max_bytes = 1 << 20;
constexpr int max_lines = 1000;

// A TCP connection to host:port, non-blocking, connected before `deadline`; -1 and `error` set
// otherwise.
int connect_to(const std::string& host, std::uint16_t port, steady::time_point deadline,
               std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const auto service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    error = host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (auto* a = res; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) == 1 &&
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
        break;
      }
      error = std::string("cannot connect to gpsd: ") +
              (soerr ? std::strerror(soerr) : "timed out");
    } else {
      error = std::string("cannot connect to gpsd: ") + std::strerror(errno);
    }
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

template <class T>
std::optional<T> field(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<T>();
}

std::string text_of(const json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Takes one gpsd JSON object; true once TPV (with a mode) and SKY have both been seen.
void take(gps_report& r, const json& j, bool& tpv, bool& sky,
          std::vector<std::pair<std::string, std::string>>& drivers) {
  const auto cls = text_of(j, "class");
  if (cls == "VERSION") {
    r.release = text_of(j, "release");
  } else if (cls == "DEVICES" && j.contains("devices") && j["devices"].is_array()) {
    for (const auto& d : j["devices"]) {
      if (d.is_object()) drivers.emplace_back(text_of(d, "path"), text_of(d, "driver"));
    }
  } else if (cls == "TPV" && j.contains("mode")) {
    r.device = text_of(j, "device");
    r.mode = field<int>(j, "mode");
    r.time = text_of(j, "time");
    r.lat = field<double>(j, "lat");
    r.lon = field<double>(j, "lon");
    r.alt_msl = field<double>(j, "altMSL");
    if (!r.alt_msl) r.alt_msl = field<double>(j, "alt");
    r.ept = field<double>(j, "ept");
    tpv = true;
  } else if (cls == "SKY") {
    r.hdop = field<double>(j, "hdop");
    r.vdop = field<double>(j, "vdop");
    r.pdop = field<double>(j, "pdop");
    r.tdop = field<double>(j, "tdop");
    r.gdop = field<double>(j, "gdop");
    r.satellites_used = field<int>(j, "uSat");
    r.satellites_visible = field<int>(j, "nSat");
    // gpsd before 3.20 sends no uSat/nSat: count the list.
    if (j.contains("satellites") && j["satellites"].is_array()) {
      int used = 0, seen = 0;
      for (const auto& s : j["satellites"]) {
        ++seen;
        if (s.is_object() && s.value("used", false)) ++used;
      }
      if (!r.satellites_used) r.satellites_used = used;
      if (!r.satellites_visible) r.satellites_visible = seen;
    }
    sky = sky || r.satellites_visible.has_value();
  }
}

}  // namespace

gps_report read_gps(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  gps_report r;
  r.host = host;
  r.port = port;
  const auto deadline = steady::now() + timeout;
  const int fd = connect_to(host, port, deadline, r.error);
  if (fd < 0) return r;
  constexpr std::string_view watch = "?WATCH={\"enable\":true,\"json\":true};\n";
  if (::send(fd, watch.data(), watch.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(watch.size())) {
    r.error = "cannot send to gpsd";
    ::close(fd);
    return r;
  }
  std::string buffer;
  std::size_t total = 0;
  bool tpv = false, sky = false;
  std::vector<std::pair<std::string, std::string>> drivers;
  char chunk[4096];
  while (!(tpv && sky)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) {
      r.error = "timeout: no complete fix and sky report from gpsd";
      break;
    }
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
      r.error = n == 0 ? "gpsd closed the connection" : std::string(std::strerror(errno));
      break;
    }
    total += static_cast<std::size_t>(n);
    buffer.append(chunk, static_cast<std::size_t>(n));
    for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
      const auto line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      ++r.lines;
      const auto j = json::parse(line, nullptr, false);
      if (j.is_object()) take(r, j, tpv, sky, drivers);
    }
    if (total > max_bytes || r.lines > max_lines) {
      r.error = "gpsd sent too much without a fix and a sky report";
      break;
    }
  }
  ::close(fd);
  for (const auto& [path, driver] : drivers) {
    if (path == r.device) r.driver = driver;
  }
  if (tpv && sky) r.error.clear();
  return r;
}

std::string gps_text(const gps_report& r) {
  if (!r.error.empty()) return r.host + ":" + std::to_string(r.port) + ": " + r.error + "\n";
  char buf[512];
  auto num = [](const std::optional<double>& v) {
    char b[32];
    if (!v) return std::string("-");
    std::snprintf(b, sizeof b, "%.2f", *v);
    return std::string(b);
  };
  const char* fix = !r.mode ? "-" : *r.mode >= 3 ? "3D" : *r.mode == 2 ? "2D" : "none";
  std::snprintf(buf, sizeof buf,
                "device:      %s%s%s%s\n"
                "fix:         %s (mode %s)\n"
                "time:        %s\n"
                "satellites:  %s used, %s visible\n"
                "dop:         hdop %s, vdop %s, pdop %s, tdop %s\n",
                r.device.c_str(), r.driver.empty() ? "" : " (", r.driver.c_str(),
                r.driver.empty() ? "" : ")", fix, r.mode ? std::to_string(*r.mode).c_str() : "-",
                r.time.empty() ? "-" : r.time.c_str(),
                r.satellites_used ? std::to_string(*r.satellites_used).c_str() : "-",
                r.satellites_visible ? std::to_string(*r.satellites_visible).c_str() : "-",
                num(r.hdop).c_str(), num(r.vdop).c_str(), num(r.pdop).c_str(),
                num(r.tdop).c_str());
  return buf;
}

std::string gps_json(const gps_report& r, const std::string& version) {
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  json gps = nullptr;
  if (r.error.empty()) {
    gps = {{"release", r.release},
           {"device", r.device},
           {"driver", r.driver},
           {"mode", opt(r.mode)},
           {"time", r.time.empty() ? json(nullptr) : json(r.time)},
           {"lat", opt(r.lat)},
           {"lon", opt(r.lon)},
           {"alt_msl", opt(r.alt_msl)},
           {"ept", opt(r.ept)},
           {"satellites_used", opt(r.satellites_used)},
           {"satellites_visible", opt(r.satellites_visible)},
           {"hdop", opt(r.hdop)},
           {"vdop", opt(r.vdop)},
           {"pdop", opt(r.pdop)},
           {"tdop", opt(r.tdop)},
           {"gdop", opt(r.gdop)}};
  }
  nlohmann::ordered_json j{
      {"schema", 1},
      {"tool", "ntpmon-query"},
      {"version", version},
      {"command", "gps"},
      {"server", {{"host", r.host}, {"address", nullptr}, {"port", r.port}}},
      {"ok", r.error.empty()},
      {"error", r.error.empty() ? nlohmann::ordered_json(nullptr)
                                : nlohmann::ordered_json{{"kind", "gpsd"}, {"message", r.error}}},
      {"reads", nlohmann::ordered_json::array()},
      {"gps", gps}};
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace ntpkit::apps
