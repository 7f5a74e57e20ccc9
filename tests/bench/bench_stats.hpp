// Measurement pieces shared by the load generators (simbmc_bench_load, simbmc_bench_rmcpp): the
// latency histogram, /proc sampling of the BMC under test, the client's own CPU time, JSON escaping.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace simbmc::bench {

// Log-linear latency histogram in microseconds: exact below 256 us, then 128 buckets per power of
// two (< 1% relative error). Fixed memory, so long runs cannot grow it; merging is a sum.
class LatencyHistogram {
 public:
  void add(uint64_t us) {
    ++buckets_[indexOf(us)];
    ++count_;
    sum_ += us;
    max_ = std::max(max_, us);
  }
  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
  }
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // Smallest recorded value v (bucket midpoint) such that at least q of the samples are <= v.
  uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5);
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::min(midpointOf(i), max_);
    }
    return max_;
  }

 private:
  static constexpr unsigned kExact = 256;      // 2^8
  static constexpr unsigned kSubBits = 7;      // 128 sub-buckets per octave
  static constexpr unsigned kOctaves = 64 - 8;
  static constexpr size_t kBuckets = kExact + kOctaves * (1u << kSubBits);

  static size_t indexOf(uint64_t v) {
    if (v < kExact) return static_cast<size_t>(v);
    const unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1;  // >= 8
    const uint64_t sub = (v >> (e - kSubBits)) & ((1u << kSubBits) - 1);
    return kExact + (e - 8) * (1u << kSubBits) + static_cast<size_t>(sub);
  }
  static uint64_t midpointOf(size_t i) {
    if (i < kExact) return i;
    const size_t j = i - kExact;
    const unsigned e = static_cast<unsigned>(j >> kSubBits) + 8;
    const uint64_t sub = j & ((1u << kSubBits) - 1);
    const uint64_t lo = (uint64_t{1} << e) | (sub << (e - kSubBits));
    const uint64_t width = uint64_t{1} << (e - kSubBits);
    return lo + width / 2;
  }

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

struct ProcSample {
  bool ok = false;
  uint64_t cpuTicks = 0;  // utime + stime
  uint64_t rssKb = 0;     // VmRSS
  uint64_t hwmKb = 0;     // VmHWM (peak RSS)
};

// utime+stime, VmRSS and VmHWM of `pid` from /proc; ok = false if it cannot be read.
inline ProcSample sampleProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return s;
  // comm may contain spaces and parentheses: fields are counted after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f && fields.size() < 13;) fields.push_back(f);
  if (fields.size() < 13) return s;
  // proc(5): field 3 is state, 14 utime, 15 stime -> indexes 11 and 12 here.
  s.cpuTicks = std::stoull(fields[11]) + std::stoull(fields[12]);
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  for (std::string l; std::getline(status, l);) {
    if (l.rfind("VmRSS:", 0) == 0) s.rssKb = std::stoull(l.substr(6));
    if (l.rfind("VmHWM:", 0) == 0) s.hwmKb = std::stoull(l.substr(6));
  }
  s.ok = true;
  return s;
}

// This process's own user+system CPU seconds.
inline double selfCpuS() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& x) { return static_cast<double>(x.tv_sec) + static_cast<double>(x.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

inline std::string jsonEscape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace simbmc::bench
