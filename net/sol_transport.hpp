// SolTransport: the character stream of one activated SOL payload instance (IPMI v2.0 §15), between
// a remote console (through SOL payload packets in its RMCP+ session) and the host's serial port.
//
// Packet format: §15.9, Table 15-2 (remote console to BMC) and Table 15-3 (BMC to remote console).
// Each side has at most one character packet outstanding; packet sequence numbers run 1..15 and
// wrap to 1, 0 marks an ACK-only packet. The BMC side implemented here:
//   - host output is accumulated and sent when `sendThreshold` characters are waiting or
//     `accumulateInterval` has passed since the oldest one arrived (SOL parameter 3, §26.2), at most
//     `maxCharsPerPacket` per packet, and retransmitted unchanged (same sequence number) every
//     `retryInterval` up to `retryCount` times (SOL parameter 4) until the console ACKs it. When the
//     retries are spent the packet is kept, not dropped: it goes out again as soon as the console
//     shows life (any SOL packet) and meanwhile once every kStalledProbe, so a console that was only
//     slow or lossy loses nothing; a dead one is reaped with its session (session timeout).
//     Characters the console did not accept (accepted count short of the packet) are
//     sent again at the head of the next packet, under a new sequence number.
//   - console characters go to the host once: a packet repeating the sequence number of the last
//     one (the console did not get our ACK) is ACKed again with the same accepted count and not
//     delivered again. What the host cannot take at once waits in an inbound queue (the BMC's
//     inbound buffer, `inboundLimit`) and is fed to it every kInboundRetry, so a console is only
//     partially ACKed when that queue is full. Clients disagree about partial ACKs (ipmitool
//     resends the rest only after an ACK, pyghmi only after a NACK), so they are kept rare; when
//     one happens it is an ACK with the accepted count (what ipmitool and ipmiconsole handle).
//     A packet with more than 255 characters (pyghmi's, see SolService) is taken whole; its ACK
//     says 255, the most the count can say (pyghmi does not read the count of an ACK).
//   - ACKs ride on a character packet when one is ready to go (keystroke echo in the same packet),
//     otherwise they go out ACK-only at once. Nothing is sent while a console packet is being
//     processed except that one answer, so the answer to a keystroke is always the next packet.
//   - operation bits from the console (break, CTS pause, DCD/DSR, ring, flushes) are honoured on
//     character packets (sequence number != 0), which are the reliable ones.
// Single-threaded; all timers run on the injected TimerQueue (virtual time in tests).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

#include "common/clock.hpp"
#include "common/timer_queue.hpp"
#include "net/wire.hpp"

namespace simbmc::net {

namespace sol {
inline constexpr size_t kHeaderSize = 4;
inline constexpr size_t kMaxCharacters = 255;  // the accepted character count is one byte (§15.9)
inline constexpr uint8_t kMaxSequence = 15;

// Operation bits, remote console to BMC (Table 15-2, byte 4).
inline constexpr uint8_t kOpNack = 0x40;
inline constexpr uint8_t kOpRingWor = 0x20;
inline constexpr uint8_t kOpBreak = 0x10;
inline constexpr uint8_t kOpCtsPause = 0x08;
inline constexpr uint8_t kOpDropDcdDsr = 0x04;
inline constexpr uint8_t kOpFlushInbound = 0x02;
inline constexpr uint8_t kOpFlushOutbound = 0x01;

// Status bits, BMC to remote console (Table 15-3, byte 4).
inline constexpr uint8_t kStNack = 0x40;
inline constexpr uint8_t kStTransferUnavailable = 0x20;
inline constexpr uint8_t kStDeactivating = 0x10;
inline constexpr uint8_t kStTransmitOverrun = 0x08;
inline constexpr uint8_t kStBreakDetected = 0x04;
}  // namespace sol

// One SOL payload (§15.9). `data` borrows from the parsed buffer.
struct SolPacket {
  uint8_t seq = 0;       // 1..15; 0 = ACK/NACK only, carries no characters
  uint8_t ackSeq = 0;    // the packet being ACKed or NACKed; 0 = none
  uint8_t accepted = 0;  // characters accepted from that packet
  uint8_t status = 0;    // operation bits (to the BMC) or status bits (from the BMC)
  ByteView data;

  // nullopt when shorter than the 4-byte header. Reserved bits are ignored.
  static std::optional<SolPacket> parse(ByteView payload);
  Bytes encode() const;
};

// SOL parameters 3 and 4 (§26.2 Table 26-5) plus the limits of the activation.
struct SolTiming {
  Millis accumulateInterval{50};
  uint8_t sendThreshold = 96;
  uint8_t retryCount = 7;
  Millis retryInterval{500};
  size_t maxCharsPerPacket = sol::kMaxCharacters;
  // Host output waiting for the console; more is lost (transmit overrun). A real UART delivers at
  // most ~11.5 KB/s; pty, socket and command consoles have no baud rate, so the backlog is deep
  // enough for a burst of seconds of SOL (which moves hundreds of KB/s on a LAN).
  size_t bufferLimit = 1024 * 1024;
  size_t inboundLimit = 64 * 1024;  // console characters the host has not taken yet
};

// The host's serial port as the transport sees it.
struct SolHost {
  // Characters to the host; returns how many were taken. Null = the port cannot take any.
  std::function<size_t(ByteView)> write;
  std::function<void()> sendBreak;
  // Modem-control state driven by the console (ring indicator, CTS held off, DCD/DSR dropped).
  std::function<void(bool ring, bool ctsPaused, bool dcdDsrDropped)> lines;
};

class SolTransport {
 public:
  // Wraps and transmits one SOL payload to the console; false if it could not be sent.
  using Send = std::function<bool(ByteView payload)>;

  struct Stats {
    uint64_t packetsIn = 0, packetsOut = 0, retransmits = 0, duplicates = 0, malformed = 0;
    uint64_t charsToHost = 0, charsToConsole = 0, charsLost = 0;
  };

  static constexpr Millis kStalledProbe{2000};
  static constexpr Millis kInboundRetry{10};

  SolTransport(TimerQueue& timers, SolTiming timing, SolHost host, Send send);
  // Cancels its timers; sends nothing.
  ~SolTransport();
  SolTransport(const SolTransport&) = delete;
  SolTransport& operator=(const SolTransport&) = delete;

  // Queues `backlog` (recent console history) and holds every send for one accumulate interval, so
  // the Activate Payload reply reaches the console before the first character packet.
  void start(ByteView backlog);
  // One SOL payload from the console (authenticated, decrypted, size-checked by the channel).
  // False if it was malformed (and ignored).
  bool onPacket(ByteView payload);
  // Characters the host wrote to its serial port.
  void hostOutput(ByteView chars);
  // Sends one "SOL deactivating" status packet (§15.9 Table 15-3) and goes quiet for good.
  void deactivate();

  const Stats& stats() const { return stats_; }
  size_t pendingCharacters() const { return pending_.size(); }
  size_t inboundQueued() const { return inbound_.size(); }
  bool awaitingAck() const { return inflight_.has_value(); }
  bool ctsPaused() const { return ctsPaused_; }

 private:
  struct InFlight {
    uint8_t seq = 0;
    Bytes chars;
    uint8_t status = 0;
    uint8_t retriesLeft = 0;
  };

  void pump();
  void sendCharacters(uint8_t ackSeq, uint8_t accepted);
  void sendAck(uint8_t ackSeq, uint8_t accepted, uint8_t extraStatus);
  void transmit(const SolPacket& p);
  void retransmit();
  void onRetryTimer();
  void armRetry();
  void armAccumulate(SteadyTime at);
  void cancelTimers();
  void handleAck(const SolPacket& p);
  size_t deliver(ByteView chars);
  void drainInbound();
  uint8_t baseStatus() const;
  SteadyTime now() const { return timers_.clock().now(); }

  TimerQueue& timers_;
  SolTiming timing_;
  SolHost host_;
  Send send_;
  Stats stats_;

  std::deque<uint8_t> pending_;  // host output not yet in a packet
  SteadyTime oldestPendingAt_{};
  std::optional<InFlight> inflight_;
  uint8_t nextSeq_ = 1;
  SteadyTime holdUntil_{};       // no character packet before this (activation, console NACK)
  bool stalled_ = false;         // retries spent; resend when the console is heard from again
  bool overrun_ = false;         // host output was lost since the last packet
  bool ctsPaused_ = false, ring_ = false, dcdDsrDropped_ = false;
  bool inPacket_ = false;        // processing a console packet: its answer is the only send
  bool dead_ = false;
  TimerQueue::Id accumulateTimer_ = 0, retryTimer_ = 0, inboundTimer_ = 0;
  std::deque<uint8_t> inbound_;  // console characters waiting for room in the host's input
  SteadyTime accumulateAt_{};

  // The last console character packet, to recognise its retransmission.
  uint8_t lastInSeq_ = 0;
  uint8_t lastInAccepted_ = 0;
};

}  // namespace simbmc::net
