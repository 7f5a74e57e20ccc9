// Repository timestamps shared by the SEL (IPMI v2.0 §31.2 most recent addition / erase) and the SDR
// repository (§33.9, and §35.2's device SDR change indicator).
#pragma once

#include <cstdint>

namespace simbmc::storage {

// 0xFFFFFFFF: "no entries ever added / erased".
inline constexpr uint32_t kNoRepositoryTimestamp = 0xFFFFFFFF;

// The next value of a repository timestamp whose last value was `floor`. Clients that cache a
// repository (FreeIPMI the SDRs, OpenIPMI the SEL) compare these timestamps for equality, in whole
// seconds, so a change must never bring back a value they may have seen: `now`, or floor + 1 when
// `now` is not later (several changes in one second, a clock set back). At 0xFFFFFFFE it cannot grow
// without becoming "never", so `now` is taken.
constexpr uint32_t nextRepositoryStamp(uint32_t floor, uint32_t now) {
  if (floor == kNoRepositoryTimestamp || now > floor || floor == kNoRepositoryTimestamp - 1) return now;
  return floor + 1;
}

}  // namespace simbmc::storage
