// simbmc_bench_load: a closed-loop IPMI LAN load generator built on FreeIPMI's libfreeipmi.
//
// What it is: N worker threads, each owning one ipmi_ctx (so one IPMI session), drive one BMC
// over UDP for a fixed time. Closed loop: a worker sends its next request only after the previous
// response (or libfreeipmi's timeout), so throughput is what the BMC sustains at N outstanding
// requests. It targets any BMC by host/port/user/password; nothing here knows about simbmcd.
//
// Modes (one output line per (mode, auth, session count) configuration):
//   cmd      open N sessions first (not timed), then Get Device ID (IPMI v2.0 §20.1) in a loop;
//            reports commands/s and latency percentiles per command. --command picks another
//            command: sel-get (Get SEL Entry, §31.5, each worker walking the next-record chain
//            from the first record and starting over after the last), sel-add (Add SEL Entry,
//            §31.6, a system event record with a run-unique tag in event data 2/3) or sdr-get (Get
//            SDR, §33.12, whole-record reads walking the repository's next-record chain likewise) or
//            sensor-reading (Get Sensor Reading, §35.14, cycling through sensors 1..--sensor-count).
//   session  each worker opens and closes a session per iteration (IPMI v2.0 §13.15-13.22 for
//            RMCP+, §22.13-22.19 for IPMI 1.5); reports session setups/s and the latency of one
//            open+close cycle (plus the open alone).
//
// Threads: main thread only coordinates and samples; workers never share an ipmi_ctx.
// Bounds: every loop stops at --duration (capped), at a per-thread operation cap, at --count
// total operations when given, and every network wait is bounded by libfreeipmi's session
// timeout (--session-timeout-ms). Traffic goes only to loopback unless --allow-remote.

#include <freeipmi/freeipmi.h>

#include "bench_stats.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace simbmc::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Hard caps so that no flag value can make a run unbounded.
constexpr double kMaxDurationS = 3600.0;
constexpr unsigned kMaxSessions = 1024;
constexpr uint64_t kMaxOpsPerThread = 1'000'000'000;
constexpr unsigned kMaxReopensPerThread = 100;
constexpr unsigned kMaxFailuresBeforeFirstSuccess = 10;

enum class Mode { cmd, session };
enum class Command { deviceId, selGet, selAdd, sdrGet, sensorReading };

const char* commandName(Command c) {
  switch (c) {
    case Command::selGet: return "sel-get";
    case Command::selAdd: return "sel-add";
    case Command::sdrGet: return "sdr-get";
    case Command::sensorReading: return "sensor-reading";
    default: return "device-id";
  }
}

struct AuthConfig {
  bool v15 = false;    // IPMI 1.5 session, MD5 authentication
  uint8_t cipher = 3;  // RMCP+ cipher suite id when !v15

  std::string label() const { return v15 ? std::string("v15-md5") : fmt::format("cipher{}", cipher); }
};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 623;
  std::string user = "admin";
  std::string password;
  std::string privilege = "admin";
  std::string mode = "cmd";
  std::string command = "device-id";
  unsigned sensorCount = 1;
  unsigned sdrBytes = 0xFF;
  std::vector<int> ciphers{3};
  bool v15 = false;
  std::vector<unsigned> sessions{1};
  double durationS = 2.0;
  uint64_t count = 0;  // total operations per configuration, 0 = only --duration
  unsigned sessionTimeoutMs = 5000;
  unsigned retransmitMs = 500;
  std::vector<std::string> workarounds;
  int bmcPid = 0;
  bool json = false;
  bool allowRemote = false;
  bool probe = false;
  bool debugDump = false;
};


struct WorkerResult {
  LatencyHistogram latency;      // per command (cmd) or per open+close cycle (session)
  LatencyHistogram openLatency;  // session open only
  uint64_t ops = 0;
  uint64_t errors = 0;
  unsigned reopens = 0;
  bool opened = false;  // cmd mode: the initial session came up
  std::string firstError;
};

// The target and credentials shared read-only by all workers.
struct Target {
  std::string hostname;  // "host" or "host:port" as libfreeipmi parses it
  std::string user;
  std::string password;
  uint8_t privilege = IPMI_PRIVILEGE_LEVEL_ADMIN;
  AuthConfig auth;
  Command command = Command::deviceId;
  unsigned sensorCount = 1;  // sensor-reading: sensor numbers 1..sensorCount
  uint8_t sdrBytes = 0xFF;   // sdr-get: bytes per read at offset 0 (FFh = the whole record)
  unsigned sessionTimeoutMs = 5000;
  unsigned retransmitMs = 500;
  unsigned workaroundFlags15 = 0;
  unsigned workaroundFlags20 = 0;
  unsigned flags = IPMI_FLAGS_DEFAULT;
};

struct CtxDeleter {
  void operator()(ipmi_ctx* ctx) const { ipmi_ctx_destroy(ctx); }
};
using CtxPtr = std::unique_ptr<ipmi_ctx, CtxDeleter>;

struct FiidDeleter {
  void operator()(fiid_obj* obj) const { fiid_obj_destroy(obj); }
};
using FiidPtr = std::unique_ptr<fiid_obj, FiidDeleter>;

std::string ctxError(ipmi_ctx_t ctx) {
  const char* msg = ipmi_ctx_errormsg(ctx);
  return msg ? std::string(msg) : std::string("unknown error");
}

bool isSessionLost(ipmi_ctx_t ctx) {
  const int e = ipmi_ctx_errnum(ctx);
  return e == IPMI_ERR_SESSION_TIMEOUT || e == IPMI_ERR_CONNECTION_TIMEOUT || e == IPMI_ERR_DEVICE_NOT_OPEN;
}

// Opens a session on an unopened ctx. libfreeipmi performs the whole handshake here: Get Channel
// Authentication Capabilities, then Get Session Challenge + Activate Session (1.5) or Open Session +
// RAKP 1-4 (RMCP+), then Set Session Privilege Level.
bool openSession(ipmi_ctx_t ctx, const Target& t, std::string& err) {
  int rc = 0;
  if (t.auth.v15) {
    rc = ipmi_ctx_open_outofband(ctx, t.hostname.c_str(), t.user.c_str(), t.password.c_str(),
                                 IPMI_AUTHENTICATION_TYPE_MD5, t.privilege, t.sessionTimeoutMs,
                                 t.retransmitMs, t.workaroundFlags15, t.flags);
  } else {
    rc = ipmi_ctx_open_outofband_2_0(ctx, t.hostname.c_str(), t.user.c_str(), t.password.c_str(),
                                     nullptr, 0, t.privilege, t.auth.cipher, t.sessionTimeoutMs,
                                     t.retransmitMs, t.workaroundFlags20, t.flags);
  }
  if (rc < 0) {
    err = ctxError(ctx);
    return false;
  }
  return true;
}

uint64_t elapsedUs(Clock::time_point from, Clock::time_point to) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

// Shared stop signals: the main thread's deadline flag and an optional total-operations budget.
struct StopControl {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> claimed{0};
  std::atomic<unsigned> looping{0};  // workers still inside their measured loop
  uint64_t count = 0;  // 0 = no budget
  Clock::time_point hardDeadline;

  // Reserves one operation; false once the run must end.
  bool next(uint64_t doneByThread) {
    if (stop.load(std::memory_order_relaxed)) return false;
    if (doneByThread >= kMaxOpsPerThread) return false;
    if (Clock::now() >= hardDeadline) return false;
    if (count != 0 && claimed.fetch_add(1, std::memory_order_relaxed) >= count) return false;
    return true;
  }
};

void noteError(WorkerResult& r, std::string msg) {
  ++r.errors;
  if (r.firstError.empty()) r.firstError = std::move(msg);
}

// Where a cmd-mode worker is in its command's sequence.
struct CommandState {
  uint16_t nextRecord = 0x0000;  // sel-get, sdr-get: the record to read next (0000h = first)
  unsigned nextSensor = 0;       // sensor-reading: index of the next sensor (number - 1)
};

// Tags of sel-add records, unique within the run.
std::atomic<uint32_t> selAddTag{0};

// Sends one request of the configured command; false (and `err`) on a libfreeipmi failure or a
// completion code other than 00h.
bool issueCommand(ipmi_ctx_t ctx, const Target& t, CommandState& st, fiid_obj_t deviceIdRs, std::string& err) {
  if (t.command == Command::deviceId) {
    if (ipmi_cmd_get_device_id(ctx, deviceIdRs) >= 0) return true;
    err = "get device id: " + ctxError(ctx);
    return false;
  }
  if (t.command == Command::sensorReading) {
    // cmd, sensor number; the reply is at least reading and flags (threshold status or states follow).
    const std::array<uint8_t, 2> rq{0x2D, static_cast<uint8_t>(1 + st.nextSensor)};
    st.nextSensor = (st.nextSensor + 1) % std::max(1u, t.sensorCount);
    std::array<uint8_t, 16> rs{};
    const int n = ipmi_cmd_raw(ctx, 0, IPMI_NET_FN_SENSOR_EVENT_RQ, rq.data(), rq.size(), rs.data(), rs.size());
    if (n < 0) {
      err = "sensor-reading: " + ctxError(ctx);
      return false;
    }
    if (n < 4 || rs[1] != 0x00) {
      err = fmt::format("sensor-reading: sensor {} completion code {:#04x}", rq[1], n >= 2 ? rs[1] : 0);
      return false;
    }
    return true;
  }
  std::array<uint8_t, 17> rq{};
  unsigned rqLen = 0;
  const bool walk = t.command == Command::selGet || t.command == Command::sdrGet;
  if (walk) {
    // cmd, reservation ID 0000h (whole-record reads need none), record ID, offset 0, FFh = all.
    const uint8_t cmd = t.command == Command::selGet ? 0x43 : 0x23;
    const uint8_t count = t.command == Command::sdrGet ? t.sdrBytes : 0xFF;
    rq = {cmd, 0x00, 0x00, static_cast<uint8_t>(st.nextRecord), static_cast<uint8_t>(st.nextRecord >> 8), 0x00,
          count};
    rqLen = 7;
  } else {
    // cmd, then a system event record (Table 32-1): ID and timestamp filled by the BMC, software
    // ID 41h, EvM rev 04h, temperature sensor F0h, threshold event, the tag in event data 2/3.
    const uint32_t tag = selAddTag.fetch_add(1, std::memory_order_relaxed);
    rq = {0x44, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0x41, 0x00, 0x04, 0x01, 0xF0, 0x01, 0x57,
          static_cast<uint8_t>(tag), static_cast<uint8_t>(tag >> 8)};
    rqLen = 17;
  }
  std::array<uint8_t, 300> rs{};  // an SDR is up to 260 bytes
  const int n = ipmi_cmd_raw(ctx, 0, IPMI_NET_FN_STORAGE_RQ, rq.data(), rqLen, rs.data(), rs.size());
  if (n < 0) {
    err = fmt::format("{}: {}", commandName(t.command), ctxError(ctx));
    return false;
  }
  if (n < 2 || rs[1] != 0x00) {
    // A walk past the last record (deleted meanwhile): start over; an empty log/repository is an error.
    if (walk && n >= 2 && rs[1] == 0xCB && st.nextRecord != 0) st.nextRecord = 0;
    err = fmt::format("{}: completion code {:#04x}", commandName(t.command), n >= 2 ? rs[1] : 0);
    return false;
  }
  if (walk) {
    if (n < 4) {
      err = fmt::format("{}: short response", commandName(t.command));
      return false;
    }
    const uint16_t next = static_cast<uint16_t>(rs[2] | (rs[3] << 8));
    st.nextRecord = next == 0xFFFF ? 0x0000 : next;
  }
  return true;
}

// cmd mode worker: open (untimed), wait for everyone, loop Get Device ID, wait, close.
void cmdWorker(const Target& t, StopControl& ctl, std::barrier<>& opened, std::barrier<>& ready,
               std::barrier<>& finished, WorkerResult& r) {
  CtxPtr ctx(ipmi_ctx_create());
  FiidPtr rs(fiid_obj_create(tmpl_cmd_get_device_id_rs));
  std::string err;
  Clock::time_point lastActivity;
  if (!ctx || !rs) {
    noteError(r, "out of memory creating ipmi_ctx/fiid object");
  } else {
    const auto t0 = Clock::now();
    r.opened = openSession(ctx.get(), t, err);
    lastActivity = Clock::now();
    if (r.opened) {
      r.openLatency.add(elapsedUs(t0, lastActivity));
    } else {
      noteError(r, "open: " + err);
    }
  }
  opened.arrive_and_wait();
  // A failing open elsewhere can take a whole session timeout, and libfreeipmi declares a session
  // dead on its own once it has been idle that long. Refresh before the window so that the window
  // starts with live sessions: one untimed command, or a fresh session if too close to the limit.
  if (r.opened) {
    const auto idle = Clock::now() - lastActivity;
    if (idle < std::chrono::milliseconds(t.sessionTimeoutMs) * 3 / 4) {
      (void)ipmi_cmd_get_device_id(ctx.get(), rs.get());
    } else {
      ipmi_ctx_close(ctx.get());
      ctx.reset(ipmi_ctx_create());
      r.opened = ctx && openSession(ctx.get(), t, err);
      if (!r.opened) noteError(r, "open (refresh): " + err);
    }
  }
  ready.arrive_and_wait();

  CommandState state;
  while (r.opened && ctl.next(r.ops)) {
    const auto t0 = Clock::now();
    const bool done = issueCommand(ctx.get(), t, state, rs.get(), err);
    const auto t1 = Clock::now();
    if (done) {
      r.latency.add(elapsedUs(t0, t1));
      ++r.ops;
      continue;
    }
    noteError(r, err);
    if (!isSessionLost(ctx.get())) continue;
    // The session is gone (lost packets past the timeout, or the BMC dropped it): reopen, bounded.
    ipmi_ctx_close(ctx.get());
    ctx.reset(ipmi_ctx_create());
    r.opened = ctx && r.reopens < kMaxReopensPerThread && openSession(ctx.get(), t, err);
    ++r.reopens;
    if (!r.opened) noteError(r, "reopen: " + err);
  }
  ctl.looping.fetch_sub(1);
  finished.arrive_and_wait();
  if (r.opened) ipmi_ctx_close(ctx.get());
}

// session mode worker: open+close per iteration, each timed.
void sessionWorker(const Target& t, StopControl& ctl, std::barrier<>& opened, std::barrier<>& ready,
                   std::barrier<>& finished, WorkerResult& r) {
  opened.arrive_and_wait();
  ready.arrive_and_wait();
  std::string err;
  unsigned failuresInARow = 0;
  while (ctl.next(r.ops + r.errors)) {
    // A configuration the BMC rejects outright (e.g. an unsupported cipher suite) is not a load
    // test: give up instead of spinning on refusals.
    if (r.ops == 0 && failuresInARow >= kMaxFailuresBeforeFirstSuccess) break;
    // A fresh ctx per cycle: it is what a management tool does per invocation, and it keeps
    // a failed handshake from leaving state behind.
    CtxPtr ctx(ipmi_ctx_create());
    if (!ctx) {
      noteError(r, "out of memory creating ipmi_ctx");
      break;
    }
    const auto t0 = Clock::now();
    if (!openSession(ctx.get(), t, err)) {
      noteError(r, "open: " + err);
      ++failuresInARow;
      continue;
    }
    failuresInARow = 0;
    const auto t1 = Clock::now();
    ipmi_ctx_close(ctx.get());  // sends Close Session; libfreeipmi ignores its outcome
    const auto t2 = Clock::now();
    r.openLatency.add(elapsedUs(t0, t1));
    r.latency.add(elapsedUs(t0, t2));
    ++r.ops;
  }
  ctl.looping.fetch_sub(1);
  finished.arrive_and_wait();
}

// /proc/PID sample of the BMC under test.



struct ConfigResult {
  Mode mode = Mode::cmd;
  Command command = Command::deviceId;
  AuthConfig auth;
  unsigned sessions = 0;
  unsigned sessionsOpen = 0;  // cmd: sessions opened; session: workers with >= 1 cycle
  double elapsedS = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  unsigned reopens = 0;
  LatencyHistogram latency;
  LatencyHistogram openLatency;
  double clientCpuS = 0;
  ProcSample bmcBefore, bmcAfter;
  std::string firstError;
  double rate() const { return elapsedS > 0 ? static_cast<double>(ops) / elapsedS : 0.0; }
};

ConfigResult runConfig(const Target& t, Mode mode, unsigned sessions, const Options& o) {
  ConfigResult res;
  res.mode = mode;
  res.command = t.command;
  res.auth = t.auth;
  res.sessions = sessions;

  StopControl ctl;
  ctl.count = o.count;
  ctl.looping = sessions;
  std::vector<WorkerResult> results(sessions);
  std::barrier<> opened(static_cast<std::ptrdiff_t>(sessions) + 1);
  std::barrier<> ready(static_cast<std::ptrdiff_t>(sessions) + 1);
  std::barrier<> finished(static_cast<std::ptrdiff_t>(sessions) + 1);
  // The hard deadline also covers the untimed open phase: duration + a session timeout + margin.
  ctl.hardDeadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(o.durationS * 2 + 10) +
                                        std::chrono::milliseconds(2 * o.sessionTimeoutMs));

  std::vector<std::thread> workers;
  workers.reserve(sessions);
  for (unsigned i = 0; i < sessions; ++i) {
    if (mode == Mode::cmd) {
      workers.emplace_back(cmdWorker, std::cref(t), std::ref(ctl), std::ref(opened), std::ref(ready),
                           std::ref(finished),
                           std::ref(results[i]));
    } else {
      workers.emplace_back(sessionWorker, std::cref(t), std::ref(ctl), std::ref(opened), std::ref(ready),
                           std::ref(finished),
                           std::ref(results[i]));
    }
  }

  // Measurement window: from the moment all sessions are up until all workers have stopped.
  opened.arrive_and_wait();
  ready.arrive_and_wait();
  res.bmcBefore = sampleProc(o.bmcPid);
  const double cpu0 = selfCpuS();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.durationS));
  // Sleep in short steps so that a used-up --count budget, or workers that all gave up, end the
  // window early.
  while (Clock::now() < deadline) {
    if (ctl.count != 0 && ctl.claimed.load(std::memory_order_relaxed) >= ctl.count) break;
    if (ctl.looping.load() == 0) break;
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(20), deadline - Clock::now()));
  }
  ctl.stop.store(true);
  finished.arrive_and_wait();
  const auto end = Clock::now();
  res.clientCpuS = selfCpuS() - cpu0;
  res.bmcAfter = sampleProc(o.bmcPid);
  for (auto& w : workers) w.join();  // cmd workers close their sessions after `finished`

  res.elapsedS = std::chrono::duration<double>(end - start).count();
  for (const auto& r : results) {
    res.ops += r.ops;
    res.errors += r.errors;
    res.reopens += r.reopens;
    res.latency.merge(r.latency);
    res.openLatency.merge(r.openLatency);
    // cmd: sessions that came up; session: workers that completed at least one cycle.
    if (mode == Mode::cmd ? r.openLatency.count() > 0 : r.ops > 0) ++res.sessionsOpen;
    if (res.firstError.empty() && !r.firstError.empty()) res.firstError = r.firstError;
  }
  return res;
}


// BMC CPU microseconds per operation over the window; negative when not measured.
double bmcCpuUsPerOp(const ConfigResult& r) {
  if (!r.bmcBefore.ok || !r.bmcAfter.ok || r.ops == 0) return -1.0;
  const double ticks = static_cast<double>(r.bmcAfter.cpuTicks - r.bmcBefore.cpuTicks);
  return ticks * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK)) / static_cast<double>(r.ops);
}

double bmcCpuS(const ConfigResult& r) {
  if (!r.bmcBefore.ok || !r.bmcAfter.ok) return -1.0;
  return static_cast<double>(r.bmcAfter.cpuTicks - r.bmcBefore.cpuTicks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void printText(const ConfigResult& r) {
  const char* mode = r.mode == Mode::cmd ? "cmd" : "session";
  const char* unit = r.mode == Mode::cmd ? "cmd/s" : "setup/s";
  std::string line = fmt::format(
      "mode={:<7} command={:<9} auth={:<8} sessions={:<3} open={:<3} ops={:<8} secs={:.2f} rate={:.1f} {} "
      "p50={}us p90={}us p99={}us max={}us errors={} reopens={} client_cpu={:.2f}s",
      mode, r.mode == Mode::cmd ? commandName(r.command) : "-", r.auth.label(), r.sessions, r.sessionsOpen, r.ops, r.elapsedS, r.rate(), unit,
      r.latency.percentile(0.50), r.latency.percentile(0.90), r.latency.percentile(0.99), r.latency.max(),
      r.errors, r.reopens, r.clientCpuS);
  if (r.mode == Mode::session || r.openLatency.count() > 0) {
    line += fmt::format(" open_p50={}us open_p99={}us", r.openLatency.percentile(0.50), r.openLatency.percentile(0.99));
  }
  if (r.bmcAfter.ok) {
    const double perOp = bmcCpuUsPerOp(r);
    line += fmt::format(" bmc_cpu={:.2f}s bmc_cpu_per_op={} bmc_rss={}kB bmc_hwm={}kB", bmcCpuS(r),
                        perOp < 0 ? std::string("n/a") : fmt::format("{:.1f}us", perOp), r.bmcAfter.rssKb,
                        r.bmcAfter.hwmKb);
  }
  if (!r.firstError.empty()) line += fmt::format(" first_error=\"{}\"", r.firstError);
  std::puts(line.c_str());
  std::fflush(stdout);
}

void printJson(const ConfigResult& r) {
  auto hist = [](const LatencyHistogram& h) {
    return fmt::format(R"({{"count":{},"p50":{},"p90":{},"p99":{},"max":{},"mean":{:.1f}}})", h.count(),
                       h.percentile(0.50), h.percentile(0.90), h.percentile(0.99), h.max(), h.mean());
  };
  std::string bmc = "null";
  if (r.bmcAfter.ok) {
    bmc = fmt::format(
        R"({{"cpu_s":{:.3f},"cpu_us_per_op":{:.2f},"rss_kb_before":{},"rss_kb_after":{},"hwm_kb_after":{}}})",
        bmcCpuS(r), bmcCpuUsPerOp(r), r.bmcBefore.rssKb, r.bmcAfter.rssKb, r.bmcAfter.hwmKb);
  }
  const std::string line = fmt::format(
      R"({{"mode":"{}","command":"{}","auth":"{}","v15":{},"cipher":{},"sessions":{},"sessions_open":{},)"
      R"("elapsed_s":{:.3f},)"
      R"("ops":{},"rate_per_s":{:.1f},"errors":{},"reopens":{},"latency_us":{},"open_latency_us":{},)"
      R"("client_cpu_s":{:.3f},"bmc":{},"first_error":"{}"}})",
      r.mode == Mode::cmd ? "cmd" : "session", commandName(r.command), r.auth.label(), r.auth.v15 ? "true" : "false",
      r.auth.v15 ? -1 : static_cast<int>(r.auth.cipher), r.sessions, r.sessionsOpen, r.elapsedS, r.ops, r.rate(),
      r.errors, r.reopens, hist(r.latency), hist(r.openLatency), r.clientCpuS, bmc, jsonEscape(r.firstError));
  std::puts(line.c_str());
  std::fflush(stdout);
}

// Workaround names as the FreeIPMI tools spell them (-W), split by the open call they apply to.
bool parseWorkarounds(const std::vector<std::string>& names, unsigned& f15, unsigned& f20, std::string& err) {
  static const std::map<std::string, std::pair<unsigned, unsigned>> table{
      {"authcap", {IPMI_WORKAROUND_FLAGS_OUTOFBAND_AUTHENTICATION_CAPABILITIES,
                   IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_AUTHENTICATION_CAPABILITIES}},
      {"idzero", {IPMI_WORKAROUND_FLAGS_OUTOFBAND_ACCEPT_SESSION_ID_ZERO, 0}},
      {"forcepermsg", {IPMI_WORKAROUND_FLAGS_OUTOFBAND_FORCE_PERMSG_AUTHENTICATION, 0}},
      {"unexpectedauth", {IPMI_WORKAROUND_FLAGS_OUTOFBAND_CHECK_UNEXPECTED_AUTHCODE, 0}},
      {"endianseq", {IPMI_WORKAROUND_FLAGS_OUTOFBAND_BIG_ENDIAN_SEQUENCE_NUMBER, 0}},
      {"noauthcodecheck", {IPMI_WORKAROUND_FLAGS_OUTOFBAND_NO_AUTH_CODE_CHECK, 0}},
      {"intel20", {0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_INTEL_2_0_SESSION}},
      {"supermicro20", {0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUPERMICRO_2_0_SESSION}},
      {"sun20", {0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUN_2_0_SESSION}},
      {"opensesspriv", {0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE}},
      {"integritycheckvalue", {0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NON_EMPTY_INTEGRITY_CHECK_VALUE}},
      {"nochecksumcheck", {IPMI_WORKAROUND_FLAGS_OUTOFBAND_NO_CHECKSUM_CHECK,
                           IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NO_CHECKSUM_CHECK}},
  };
  for (const auto& n : names) {
    const auto it = table.find(n);
    if (it == table.end()) {
      err = fmt::format("unknown workaround '{}'", n);
      return false;
    }
    f15 |= it->second.first;
    f20 |= it->second.second;
  }
  return true;
}

// True when every address `host` resolves to is loopback (127.0.0.0/8 or ::1).
bool resolvesToLoopbackOnly(const std::string& host, std::string& err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0) {
    err = fmt::format("cannot resolve '{}': {}", host, gai_strerror(rc));
    return false;
  }
  bool allLoopback = true;
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      sockaddr_in sin{};
      std::memcpy(&sin, a->ai_addr, sizeof sin);
      allLoopback &= (ntohl(sin.sin_addr.s_addr) >> 24) == 127;
    } else if (a->ai_family == AF_INET6) {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, a->ai_addr, sizeof sin6);
      allLoopback &= IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr) != 0;
    } else {
      allLoopback = false;
    }
  }
  freeaddrinfo(res);
  if (!allLoopback) err = fmt::format("'{}' is not a loopback address (pass --allow-remote to target it)", host);
  return allLoopback;
}

// libfreeipmi (1.1+) takes the port inside the hostname string: "host:port", "[v6addr]:port".
std::string hostnameWithPort(const std::string& host, uint16_t port) {
  if (port == 623) return host;
  if (host.find(':') != std::string::npos && host.front() != '[') return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

int run(int argc, char** argv) {
  Options o;
  CLI::App app{"Closed-loop IPMI LAN load generator (libfreeipmi). One line per configuration."};
  app.add_option("--host", o.host, "BMC address (loopback only unless --allow-remote)");
  app.add_option("--port", o.port, "BMC UDP port")->check(CLI::Range(1, 65535));
  app.add_option("-u,--user", o.user, "user name");
  app.add_option("-p,--password", o.password, "password (or env SIMBMC_BENCH_PASSWORD)")
      ->envname("SIMBMC_BENCH_PASSWORD");
  app.add_option("--privilege", o.privilege, "user|operator|admin")
      ->check(CLI::IsMember({"user", "operator", "admin"}));
  app.add_option("--mode", o.mode, "cmd: Get Device ID on open sessions; session: open+close per iteration")
      ->check(CLI::IsMember({"cmd", "session"}));
  app.add_option("--command", o.command, "cmd mode: device-id (Get Device ID), sel-get (Get SEL Entry walk), "
                                         "sel-add (Add SEL Entry), sdr-get (Get SDR walk) or sensor-reading "
                                         "(Get Sensor Reading of sensors 1..--sensor-count in turn)")
      ->check(CLI::IsMember({"device-id", "sel-get", "sel-add", "sdr-get", "sensor-reading"}));
  app.add_option("--sdr-bytes", o.sdrBytes, "sdr-get: bytes per Get SDR at offset 0, 255 = the whole record (a BMC "
                                           "that cannot return whole records answers CAh; 16 fits any)")
      ->check(CLI::Range(5u, 255u));
  app.add_option("--sensor-count", o.sensorCount, "sensor-reading: how many sensors, numbered from 1")
      ->check(CLI::Range(1u, 255u));
  app.add_option("--cipher", o.ciphers, "RMCP+ cipher suite id(s), comma separated, e.g. 3,17")
      ->delimiter(',')
      ->check(CLI::Range(0, 255));
  app.add_flag("--v15", o.v15, "IPMI 1.5 sessions with MD5 authentication instead of RMCP+");
  app.add_option("--sessions", o.sessions, "concurrent sessions (= worker threads), comma separated")
      ->delimiter(',')
      ->check(CLI::Range(1u, kMaxSessions));
  app.add_option("--duration", o.durationS, "seconds per configuration")->check(CLI::Range(0.05, kMaxDurationS));
  app.add_option("--count", o.count, "stop a configuration after this many operations in total (0 = no limit)");
  app.add_option("--session-timeout-ms", o.sessionTimeoutMs, "libfreeipmi session timeout")
      ->check(CLI::Range(100u, 60000u));
  app.add_option("--retransmit-ms", o.retransmitMs, "libfreeipmi retransmission timeout")
      ->check(CLI::Range(10u, 60000u));
  app.add_option("-W,--workaround", o.workarounds, "FreeIPMI workaround(s), e.g. opensesspriv (ipmi_sim needs it)")
      ->delimiter(',');
  app.add_option("--bmc-pid", o.bmcPid, "PID of the BMC process: report its CPU and RSS over each window");
  app.add_flag("--json", o.json, "one JSON object per line instead of key=value text");
  app.add_flag("--allow-remote", o.allowRemote, "allow a non-loopback --host");
  app.add_flag("--probe", o.probe, "open one session, send one Get Device ID, close; exit 0 on success");
  app.add_flag("--debug-dump", o.debugDump, "libfreeipmi packet dumps to stderr (very verbose)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  std::string err;
  if (!o.allowRemote && !resolvesToLoopbackOnly(o.host, err)) {
    fmt::print(stderr, "simbmc_bench_load: {}\n", err);
    return 2;
  }
  Target base;
  base.hostname = hostnameWithPort(o.host, o.port);
  base.user = o.user;
  base.password = o.password;
  base.privilege = o.privilege == "user"       ? IPMI_PRIVILEGE_LEVEL_USER
                   : o.privilege == "operator" ? IPMI_PRIVILEGE_LEVEL_OPERATOR
                                               : IPMI_PRIVILEGE_LEVEL_ADMIN;
  base.command = o.command == "sel-get"   ? Command::selGet
                 : o.command == "sel-add" ? Command::selAdd
                 : o.command == "sdr-get" ? Command::sdrGet
                 : o.command == "sensor-reading" ? Command::sensorReading
                                          : Command::deviceId;
  base.sensorCount = o.sensorCount;
  base.sdrBytes = static_cast<uint8_t>(o.sdrBytes);
  base.sessionTimeoutMs = o.sessionTimeoutMs;
  base.retransmitMs = o.retransmitMs;
  base.flags = o.debugDump ? IPMI_FLAGS_DEBUG_DUMP : IPMI_FLAGS_DEFAULT;
  if (!parseWorkarounds(o.workarounds, base.workaroundFlags15, base.workaroundFlags20, err)) {
    fmt::print(stderr, "simbmc_bench_load: {}\n", err);
    return 2;
  }
  if (o.password.size() > (o.v15 ? IPMI_1_5_MAX_PASSWORD_LENGTH : IPMI_2_0_MAX_PASSWORD_LENGTH)) {
    fmt::print(stderr, "simbmc_bench_load: password too long for the chosen IPMI version\n");
    return 2;
  }
  // Must run before any thread exists (crypto library initialisation).
  if (ipmi_rmcpplus_init() < 0) {
    fmt::print(stderr, "simbmc_bench_load: ipmi_rmcpplus_init failed\n");
    return 2;
  }

  std::vector<AuthConfig> auths;
  if (o.v15) {
    auths.push_back(AuthConfig{true, 0});
  } else {
    for (const int c : o.ciphers) auths.push_back(AuthConfig{false, static_cast<uint8_t>(c)});
  }

  if (o.probe) {
    for (const auto& a : auths) {
      Target t = base;
      t.auth = a;
      CtxPtr ctx(ipmi_ctx_create());
      FiidPtr rs(fiid_obj_create(tmpl_cmd_get_device_id_rs));
      if (!ctx || !rs) return 2;
      if (!openSession(ctx.get(), t, err)) {
        fmt::print(stderr, "probe {} {}: open failed: {}\n", base.hostname, a.label(), err);
        return 1;
      }
      const int rc = ipmi_cmd_get_device_id(ctx.get(), rs.get());
      const std::string cmdErr = rc < 0 ? ctxError(ctx.get()) : std::string();
      ipmi_ctx_close(ctx.get());
      if (rc < 0) {
        fmt::print(stderr, "probe {} {}: Get Device ID failed: {}\n", base.hostname, a.label(), cmdErr);
        return 1;
      }
      fmt::print("probe {} {}: ok\n", base.hostname, a.label());
    }
    return 0;
  }

  const Mode mode = o.mode == "session" ? Mode::session : Mode::cmd;
  bool anyDead = false;
  for (const auto& a : auths) {
    Target t = base;
    t.auth = a;
    for (const unsigned n : o.sessions) {
      const ConfigResult r = runConfig(t, mode, n, o);
      if (r.ops == 0) anyDead = true;
      o.json ? printJson(r) : printText(r);
    }
  }
  // Non-zero when some configuration completed no operation at all (unsupported cipher, bad
  // credentials, BMC down); the lines above say which.
  return anyDead ? 1 : 0;
}

}  // namespace
}  // namespace simbmc::bench

int main(int argc, char** argv) { return simbmc::bench::run(argc, argv); }
