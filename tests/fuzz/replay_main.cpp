// Replay main for the fuzz targets, after fmt's test/fuzzing/main.cc. Without -DNTPKIT_FUZZ=ON
// every tests/fuzz/fuzz_<target>.cpp links with this file instead of libFuzzer, and ctest runs
// it over the target's corpus and then over inputs derived from that corpus by seeded mutation,
// so that a plain g++ build (and the ASan/UBSan build of scripts/test) exercises odd inputs too.
//
//   fuzz_<target> [--seed N] [--mutations N] [--dict FILE] [--verbose] PATH...
//
// PATH is an input file or a directory of them (regular files, in name order, not recursive).
// Arguments in libFuzzer's -flag=value form are ignored, so one command line serves both
// builds. When an input crashes, its bytes are written to ./<program>-crash.bin and its origin
// (file, or mutation number and base file) is printed, so that it can be replayed alone.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Provided by the ASan/UBSan runtimes, absent otherwise.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

using bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

// Longest input a mutation may produce; libFuzzer's default -max_len is 4096 too.
constexpr std::size_t max_input_size = 4096;

// --- crash reporting (async-signal-safe: write(2) and fixed buffers only) ---

const std::uint8_t* g_data = nullptr;
std::size_t g_size = 0;
char g_label[512];
char g_crash_path[512];
volatile std::sig_atomic_t g_reported = 0;

void write_str(const char* s) {
  const auto n = std::strlen(s);
  (void)!::write(STDERR_FILENO, s, n);
}

void report_crash() {
  if (g_reported || g_data == nullptr) return;
  g_reported = 1;
  write_str("\nfuzz replay: crashed on ");
  write_str(g_label);
  write_str("\n");
  const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, g_data, g_size);
    ::close(fd);
    write_str("fuzz replay: input saved to ");
    write_str(g_crash_path);
    write_str("\n");
  }
  static constexpr char hex[] = "0123456789abcdef";
  char line[3 * 32 + 2];
  for (std::size_t at = 0; at < g_size && at < 512; at += 32) {
    std::size_t n = 0;
    for (std::size_t i = at; i < g_size && i < at + 32; ++i) {
      line[n++] = hex[g_data[i] >> 4];
      line[n++] = hex[g_data[i] & 15];
      line[n++] = ' ';
    }
    line[n++] = '\n';
    line[n] = '\0';
    write_str(line);
  }
}

extern "C" void on_fatal_signal(int sig) {
  report_crash();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_crash_reporting(const char* argv0) {
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s-crash.bin",
                fs::path(argv0).filename().c_str());
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_fatal_signal);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(report_crash);
}

// Runs one input from an exactly sized heap buffer, as libFuzzer does, so that a read one past
// the end is a heap-buffer-overflow under ASan.
void run_one(const bytes& input, const std::string& label, bool verbose) {
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[input.size()]);
  std::copy(input.begin(), input.end(), copy.get());
  std::snprintf(g_label, sizeof g_label, "%s (%zu bytes)", label.c_str(), input.size());
  if (verbose) std::fprintf(stderr, "fuzz replay: %s\n", g_label);
  g_data = copy.get();
  g_size = input.size();
  LLVMFuzzerTestOneInput(copy.get(), input.size());
  g_data = nullptr;
  g_size = 0;
}

// --- inputs ---

bool read_file(const fs::path& p, bytes& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

struct named_input {
  std::string name;
  bytes data;
};

bool collect(const fs::path& p, std::vector<named_input>& out) {
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(p, ec)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    if (ec) return false;
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (!collect(f, out)) return false;
    }
    return true;
  }
  named_input in{p.string(), {}};
  if (!read_file(p, in.data)) return false;
  out.push_back(std::move(in));
  return true;
}

// A libFuzzer dictionary: lines `name="value"` or `"value"`, with \\, \" and \xNN escapes;
// '#' starts a comment line.
bool read_dict(const fs::path& p, std::vector<bytes>& out) {
  std::ifstream in(p);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find('"');
    const auto last = line.rfind('"');
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    if (first == std::string::npos || last <= first) return false;
    bytes token;
    for (std::size_t i = first + 1; i < last; ++i) {
      if (line[i] != '\\' || i + 1 >= last) {
        token.push_back(static_cast<std::uint8_t>(line[i]));
      } else if (line[i + 1] == 'x' && i + 3 < last) {
        token.push_back(static_cast<std::uint8_t>(std::stoul(line.substr(i + 2, 2), nullptr, 16)));
        i += 3;
      } else {
        token.push_back(static_cast<std::uint8_t>(line[++i]));
      }
    }
    if (!token.empty()) out.push_back(std::move(token));
  }
  return true;
}

// --- deterministic mutation ---

// Derives inputs from the corpus with a fixed seed. std::mt19937_64's output is fixed by the
// standard and only `%` is used on it (distributions differ between standard libraries), so
// the same seed gives the same inputs everywhere.
class mutator {
 public:
  mutator(std::uint64_t seed, const std::vector<named_input>& corpus,
          const std::vector<bytes>& dict)
      : rng_(seed), corpus_(corpus), dict_(dict) {}

  /// The next derived input; `base` is set to the corpus index it started from.
  bytes next(std::size_t& base) {
    base = below(corpus_.size());
    bytes b = corpus_[base].data;
    const auto rounds = 1 + below(4);
    for (std::uint64_t i = 0; i < rounds; ++i) mutate(b);
    if (b.size() > max_input_size) b.resize(max_input_size);
    return b;
  }

 private:
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }
  std::uint8_t random_byte() { return static_cast<std::uint8_t>(rng_()); }

  void put_be(bytes& b, std::size_t at, std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width && at + i < b.size(); ++i) {
      b[at + i] = static_cast<std::uint8_t>(v >> (8 * (width - 1 - i)));
    }
  }

  void mutate(bytes& b) {
    // Values that sit on the boundaries of NTP fields: header size, RFC 7822 minimum field
    // and MAC sizes, sign bits, all-ones.
    static constexpr std::array<std::uint8_t, 12> byte_values{0x00, 0x01, 0x04, 0x10, 0x14, 0x18,
                                                              0x1c, 0x23, 0x24, 0x7f, 0x80, 0xff};
    static constexpr std::array<std::uint32_t, 14> word_values{
        0, 1, 4, 12, 16, 20, 24, 28, 48, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0xffffffff};
    const std::size_t at = below(b.size() + 1);
    switch (below(dict_.empty() ? 12 : 13)) {
      case 0:  // flip one bit
        if (!b.empty()) b[below(b.size())] ^= static_cast<std::uint8_t>(1u << below(8));
        break;
      case 1:
        if (!b.empty()) b[below(b.size())] = byte_values[below(byte_values.size())];
        break;
      case 2:
        if (!b.empty()) b[below(b.size())] = random_byte();
        break;
      case 3:  // a 16-bit field such as an extension field's type or length
        if (!b.empty()) put_be(b, below(b.size()), word_values[below(word_values.size())], 2);
        break;
      case 4:  // a 32-bit field such as a key id, or half a timestamp
        if (!b.empty()) put_be(b, below(b.size()), word_values[below(word_values.size())], 4);
        break;
      case 5: {  // insert random bytes
        bytes extra(1 + below(16));
        for (auto& x : extra) x = random_byte();
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), extra.begin(), extra.end());
        break;
      }
      case 6: {  // erase a range
        const auto n = std::min<std::size_t>(b.size() - std::min(at, b.size()), 1 + below(24));
        if (at < b.size()) {
          b.erase(b.begin() + static_cast<std::ptrdiff_t>(at),
                  b.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        break;
      }
      case 7:  // truncate, often to a multiple of 4
        b.resize(below(2) ? at & ~std::size_t{3} : at);
        break;
      case 8: {  // append a MAC-shaped trailer: key id and 0..64 digest bytes
        const std::size_t n = 4 + 4 * below(17);
        for (std::size_t i = 0; i < n; ++i) b.push_back(random_byte());
        break;
      }
      case 9: {  // duplicate a range somewhere else
        if (b.empty()) break;
        const auto from = below(b.size());
        const auto n = 1 + below(std::min<std::size_t>(b.size() - from, 64));
        const bytes chunk(b.begin() + static_cast<std::ptrdiff_t>(from),
                          b.begin() + static_cast<std::ptrdiff_t>(from + n));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(below(b.size() + 1)), chunk.begin(),
                 chunk.end());
        break;
      }
      case 10: {  // splice: this input's head, another input's tail
        const auto& other = corpus_[below(corpus_.size())].data;
        const auto from = below(other.size() + 1);
        b.resize(at);
        b.insert(b.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
      case 11: {  // overwrite a range with bytes from elsewhere in the input
        if (b.size() < 2) break;
        const auto from = below(b.size());
        const auto to = below(b.size());
        const auto n = 1 + below(std::min(b.size() - from, b.size() - to));
        std::copy_n(bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.end()).begin(), n,
                    b.begin() + static_cast<std::ptrdiff_t>(to));
        break;
      }
      default: {  // a dictionary token, inserted or written over
        const auto& token = dict_[below(dict_.size())];
        if (below(2) || at + token.size() > b.size()) {
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), token.begin(), token.end());
        } else {
          std::copy(token.begin(), token.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
        }
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  const std::vector<named_input>& corpus_;
  const std::vector<bytes>& dict_;
};

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--seed N] [--mutations N] [--dict FILE] [--verbose] PATH...\n"
               "Runs LLVMFuzzerTestOneInput over every file in PATH (files or directories),\n"
               "then over --mutations inputs derived from them by mutation (--seed, default 1).\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  std::size_t mutations = 0;
  bool verbose = false;
  std::vector<named_input> corpus;
  std::vector<bytes> dict;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--seed" && has_value) {
      seed = std::strtoull(argv[++i], nullptr, 0);
    } else if (arg == "--mutations" && has_value) {
      mutations = std::strtoull(argv[++i], nullptr, 0);
    } else if (arg == "--dict" && has_value) {
      if (!read_dict(argv[++i], dict)) {
        std::fprintf(stderr, "%s: cannot read dictionary %s\n", argv[0], argv[i]);
        return 2;
      }
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "-h" || arg == "--help") {
      return usage(argv[0]);
    } else if (arg.size() > 1 && arg[0] == '-' && arg[1] != '-' && arg.find('=') != arg.npos) {
      continue;  // a libFuzzer flag
    } else if (arg.starts_with("-")) {
      return usage(argv[0]);
    } else if (!collect(argv[i], corpus)) {
      std::fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
      return 2;
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "%s: no inputs (a fuzz target needs a corpus)\n", argv[0]);
    return 2;
  }
  install_crash_reporting(argv[0]);
  for (const auto& in : corpus) run_one(in.data, in.name, verbose);
  mutator m(seed, corpus, dict);
  for (std::size_t i = 0; i < mutations; ++i) {
    std::size_t base = 0;
    const auto input = m.next(base);
    run_one(input,
            "mutation " + std::to_string(i) + " (seed " + std::to_string(seed) + ") of " +
                corpus[base].name,
            verbose);
  }
  std::printf("%s: %zu corpus files and %zu mutations (seed %llu, %zu dictionary tokens): ok\n",
              fs::path(argv[0]).filename().c_str(), corpus.size(), mutations,
              static_cast<unsigned long long>(seed), dict.size());
  return 0;
}
