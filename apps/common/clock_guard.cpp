#include "clock_guard.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace ntpkit::apps {
namespace {

// Bit 30 of a system call number selects the x32 ABI on x86_64 (__X32_SYSCALL_BIT); no
// other architecture has numbers that high.
constexpr unsigned x32_syscall_bit = 0x40000000;

#if defined(__x86_64__)
constexpr unsigned this_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned this_arch = AUDIT_ARCH_AARCH64;
#elif defined(__i386__)
constexpr unsigned this_arch = AUDIT_ARCH_I386;
#else
#error "add this architecture's AUDIT_ARCH value"
#endif

constexpr sock_filter stmt(unsigned short code, unsigned k) { return {code, 0, 0, k}; }
constexpr sock_filter jump_if(unsigned k, unsigned char on_true) {
  return {BPF_JMP | BPF_JEQ | BPF_K, on_true, 0, k};
}

}  // namespace

std::error_code forbid_clock_changes() noexcept {
  // Each jump_if skips forward to the EPERM return at the end when the number matches.
  static const sock_filter program[] = {
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      {BPF_JMP | BPF_JEQ | BPF_K, 1, 0, this_arch},
      stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),  // a foreign ABI: refuse outright
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      // x32 calls share AUDIT_ARCH_X86_64 and differ only by this bit in the number, so they
      // would pass the comparisons below: refuse them all (we never make one).
      {BPF_JMP | BPF_JGE | BPF_K, 5, 0, x32_syscall_bit},
      jump_if(__NR_settimeofday, 4),
      jump_if(__NR_clock_settime, 3),
      jump_if(__NR_adjtimex, 2),
      jump_if(__NR_clock_adjtime, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof program / sizeof program[0]),
                  const_cast<sock_filter*>(program)};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return {errno, std::system_category()};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
    return {errno, std::system_category()};
  }
  return {};
}

}  // namespace ntpkit::apps
