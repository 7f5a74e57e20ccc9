#include "net/sol_transport.hpp"

#include <algorithm>

namespace simbmc::net {

std::optional<SolPacket> SolPacket::parse(ByteView payload) {
  Reader r(payload);
  SolPacket p;
  p.seq = r.u8() & 0x0F;
  p.ackSeq = r.u8() & 0x0F;
  p.accepted = r.u8();
  p.status = r.u8() & 0x7F;  // bit 7 is reserved in both directions
  if (!r.ok()) return std::nullopt;
  p.data = r.rest();
  return p;
}

Bytes SolPacket::encode() const {
  Bytes out;
  out.reserve(sol::kHeaderSize + data.size());
  Writer(out).u8(seq & 0x0F).u8(ackSeq & 0x0F).u8(accepted).u8(status).bytes(data);
  return out;
}

SolTransport::SolTransport(TimerQueue& timers, SolTiming timing, SolHost host, Send send)
    : timers_(timers), timing_(timing), host_(std::move(host)), send_(std::move(send)) {
  timing_.maxCharsPerPacket = std::clamp<size_t>(timing_.maxCharsPerPacket, 1, sol::kMaxCharacters);
  if (timing_.sendThreshold == 0) timing_.sendThreshold = 1;
}

SolTransport::~SolTransport() { cancelTimers(); }

void SolTransport::cancelTimers() {
  if (accumulateTimer_ != 0) timers_.cancel(accumulateTimer_);
  if (retryTimer_ != 0) timers_.cancel(retryTimer_);
  if (inboundTimer_ != 0) timers_.cancel(inboundTimer_);
  accumulateTimer_ = retryTimer_ = inboundTimer_ = 0;
}

uint8_t SolTransport::baseStatus() const {
  uint8_t st = 0;
  if (!host_.write) st |= sol::kStTransferUnavailable;
  return st;
}

void SolTransport::start(ByteView backlog) {
  holdUntil_ = now() + timing_.accumulateInterval;
  hostOutput(backlog);
  pump();
}

void SolTransport::hostOutput(ByteView chars) {
  if (dead_ || chars.empty()) return;
  if (pending_.empty()) oldestPendingAt_ = now();
  const size_t room = timing_.bufferLimit > pending_.size() ? timing_.bufferLimit - pending_.size() : 0;
  const size_t take = std::min(room, chars.size());
  pending_.insert(pending_.end(), chars.begin(), chars.begin() + static_cast<std::ptrdiff_t>(take));
  if (take < chars.size()) {
    // Like a UART receive overrun: the newest characters are the ones lost, and the next packet
    // says so (§15.9 Table 15-3, "character transmit overrun").
    stats_.charsLost += chars.size() - take;
    overrun_ = true;
  }
  pump();
}

// Sends a character packet if one is due, or arms the accumulate timer for when it will be.
void SolTransport::pump() {
  if (dead_ || inPacket_ || inflight_ || ctsPaused_ || pending_.empty()) return;
  const SteadyTime t = now();
  const SteadyTime due = std::max(holdUntil_, oldestPendingAt_ + timing_.accumulateInterval);
  const bool hold = t < holdUntil_;
  if (!hold && (pending_.size() >= timing_.sendThreshold || t >= due)) {
    sendCharacters(0, 0);
    return;
  }
  armAccumulate(due);
}

void SolTransport::armAccumulate(SteadyTime at) {
  if (accumulateTimer_ != 0) {
    if (accumulateAt_ == at) return;
    timers_.cancel(accumulateTimer_);
  }
  accumulateAt_ = at;
  accumulateTimer_ = timers_.scheduleAt(at, [this] {
    accumulateTimer_ = 0;
    pump();
  });
}

void SolTransport::sendCharacters(uint8_t ackSeq, uint8_t accepted) {
  if (accumulateTimer_ != 0) {
    timers_.cancel(accumulateTimer_);
    accumulateTimer_ = 0;
  }
  InFlight f;
  f.seq = nextSeq_;
  nextSeq_ = static_cast<uint8_t>(nextSeq_ % sol::kMaxSequence + 1);
  const size_t n = std::min(pending_.size(), timing_.maxCharsPerPacket);
  f.chars.assign(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  f.status = baseStatus() | (overrun_ ? sol::kStTransmitOverrun : 0);
  overrun_ = false;
  f.retriesLeft = timing_.retryCount;
  stats_.charsToConsole += n;
  inflight_ = std::move(f);
  stalled_ = false;
  transmit(SolPacket{inflight_->seq, ackSeq, accepted, inflight_->status, inflight_->chars});
  armRetry();
}

void SolTransport::sendAck(uint8_t ackSeq, uint8_t accepted, uint8_t extraStatus) {
  transmit(SolPacket{0, ackSeq, accepted, static_cast<uint8_t>(baseStatus() | extraStatus), {}});
}

void SolTransport::transmit(const SolPacket& p) {
  ++stats_.packetsOut;
  send_(p.encode());
}

void SolTransport::armRetry() {
  if (retryTimer_ != 0) timers_.cancel(retryTimer_);
  retryTimer_ = timers_.scheduleAfter(timing_.retryInterval, [this] {
    retryTimer_ = 0;
    onRetryTimer();
  });
}

void SolTransport::onRetryTimer() {
  if (dead_ || !inflight_) return;
  if (inflight_->retriesLeft == 0 && !stalled_) {
    // Retries spent: the console is slow, lossy or gone. Keep the characters and probe slowly until
    // it answers (then at once) or its session is closed.
    stalled_ = true;
    retryTimer_ = timers_.scheduleAfter(std::max<Millis>(timing_.retryInterval, kStalledProbe), [this] {
      retryTimer_ = 0;
      onRetryTimer();
    });
    return;
  }
  if (stalled_) {
    retransmit();
    retryTimer_ = timers_.scheduleAfter(std::max<Millis>(timing_.retryInterval, kStalledProbe), [this] {
      retryTimer_ = 0;
      onRetryTimer();
    });
    return;
  }
  --inflight_->retriesLeft;
  retransmit();
  armRetry();
}

// The same packet again: same sequence number and characters, so the console can tell it is a
// retransmission. The ACK it may have carried is not repeated (it was for an older packet).
void SolTransport::retransmit() {
  ++stats_.retransmits;
  transmit(SolPacket{inflight_->seq, 0, 0, inflight_->status, inflight_->chars});
}

void SolTransport::handleAck(const SolPacket& p) {
  if (p.ackSeq == 0 || !inflight_ || p.ackSeq != inflight_->seq) return;
  InFlight done = std::move(*inflight_);
  inflight_.reset();
  stalled_ = false;
  if (retryTimer_ != 0) {
    timers_.cancel(retryTimer_);
    retryTimer_ = 0;
  }
  const size_t accepted = std::min<size_t>(p.accepted, done.chars.size());
  if (accepted < done.chars.size()) {
    if (pending_.empty()) oldestPendingAt_ = now();
    pending_.insert(pending_.begin(), done.chars.begin() + static_cast<std::ptrdiff_t>(accepted), done.chars.end());
    stats_.charsToConsole -= done.chars.size() - accepted;
  }
  // A NACK asks us to hold off: the rest goes after one retry interval instead of at once.
  if ((p.status & sol::kOpNack) != 0) holdUntil_ = now() + timing_.retryInterval;
}

// Hands console characters to the host in order: straight through while nothing is queued, the
// rest into the inbound queue. Returns how many were accepted (taken or queued).
size_t SolTransport::deliver(ByteView chars) {
  if (!host_.write) return chars.size();  // no serial port: consumed and lost ("transfer unavailable")
  size_t taken = 0;
  if (inbound_.empty()) {
    taken = std::min(host_.write(chars), chars.size());
    stats_.charsToHost += taken;
  }
  const size_t room = timing_.inboundLimit > inbound_.size() ? timing_.inboundLimit - inbound_.size() : 0;
  const size_t queued = std::min(room, chars.size() - taken);
  inbound_.insert(inbound_.end(), chars.begin() + static_cast<std::ptrdiff_t>(taken),
                  chars.begin() + static_cast<std::ptrdiff_t>(taken + queued));
  if (!inbound_.empty() && inboundTimer_ == 0) {
    inboundTimer_ = timers_.scheduleAfter(kInboundRetry, [this] {
      inboundTimer_ = 0;
      drainInbound();
    });
  }
  return taken + queued;
}

void SolTransport::drainInbound() {
  if (dead_ || !host_.write) return;
  for (int i = 0; i < 64 && !inbound_.empty(); ++i) {
    // The deque is not contiguous: hand over its first run at a time.
    Bytes chunk(inbound_.begin(), inbound_.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(inbound_.size(), 4096)));
    const size_t n = std::min(host_.write(chunk), chunk.size());
    inbound_.erase(inbound_.begin(), inbound_.begin() + static_cast<std::ptrdiff_t>(n));
    stats_.charsToHost += n;
    if (n < chunk.size()) break;
  }
  if (!inbound_.empty()) {
    inboundTimer_ = timers_.scheduleAfter(kInboundRetry, [this] {
      inboundTimer_ = 0;
      drainInbound();
    });
  }
}

bool SolTransport::onPacket(ByteView payload) {
  if (dead_) return false;
  auto p = SolPacket::parse(payload);
  if (!p) {
    ++stats_.malformed;
    return false;
  }
  ++stats_.packetsIn;
  inPacket_ = true;
  handleAck(*p);

  struct Answer {
    uint8_t seq, accepted;
  };
  std::optional<Answer> answer;
  if (p->seq != 0) {
    if (p->seq == lastInSeq_) {
      ++stats_.duplicates;  // our ACK was lost: ACK again, deliver nothing again
      answer = Answer{p->seq, lastInAccepted_};
    } else {
      const uint8_t op = p->status;
      if ((op & sol::kOpFlushOutbound) != 0) pending_.clear();
      if ((op & sol::kOpFlushInbound) != 0) inbound_.clear();
      const bool ring = (op & sol::kOpRingWor) != 0, cts = (op & sol::kOpCtsPause) != 0,
                 dcd = (op & sol::kOpDropDcdDsr) != 0;
      if (ring != ring_ || cts != ctsPaused_ || dcd != dcdDsrDropped_) {
        ring_ = ring;
        ctsPaused_ = cts;
        dcdDsrDropped_ = dcd;
        if (host_.lines) host_.lines(ring, cts, dcd);
      }
      // Without a serial port the characters are consumed and lost ("transfer unavailable" says
      // so); a count of 0 would only make the console resend them forever.
      // A packet of more than 255 characters (only pyghmi sends them: it reads the maximum inbound
      // payload size as a character count) is taken whole and ACKed with the largest count the
      // field holds; pyghmi ignores the count of an ACK, and its NACK handling breaks on a paste.
      const size_t taken = deliver(p->data);
      if ((op & sol::kOpBreak) != 0 && host_.sendBreak) host_.sendBreak();
      lastInSeq_ = p->seq;
      lastInAccepted_ = static_cast<uint8_t>(std::min(taken, sol::kMaxCharacters));
      answer = Answer{p->seq, lastInAccepted_};
    }
  }
  inPacket_ = false;
  if (dead_) return true;

  if (answer) {
    const bool canCarry = !inflight_ && !ctsPaused_ && !pending_.empty() && now() >= holdUntil_;
    if (canCarry) {
      sendCharacters(answer->seq, answer->accepted);
    } else {
      sendAck(answer->seq, answer->accepted, 0);
    }
  }
  if (inflight_ && stalled_) {
    // The console is alive again: give the stalled packet a fresh set of retries.
    stalled_ = false;
    inflight_->retriesLeft = timing_.retryCount;
    retransmit();
    armRetry();
  }
  pump();
  return true;
}

void SolTransport::deactivate() {
  if (dead_) return;
  cancelTimers();
  dead_ = true;
  transmit(SolPacket{0, 0, 0, static_cast<uint8_t>(baseStatus() | sol::kStDeactivating), {}});
}

}  // namespace simbmc::net
