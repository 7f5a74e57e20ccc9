// SolTransport (net/sol_transport.hpp) in virtual time: a FakeClock-driven TimerQueue, a recording
// host serial port and a recording console link. IPMI v2.0 §15.9 Tables 15-2/15-3 (packet format),
// §26.2 Table 26-5 parameters 3 and 4 (accumulate interval, send threshold, retry count/interval).
#include "net/sol_transport.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/timer_queue.hpp"

namespace simbmc::net {
namespace {

using std::chrono::milliseconds;

Bytes bytesOf(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string text(ByteView b) { return std::string(b.begin(), b.end()); }

// What the BMC sent, decoded (the transport's payloads are parsed back with the same codec).
struct Sent {
  uint8_t seq, ackSeq, accepted, status;
  std::string chars;
};

Bytes packet(uint8_t seq, uint8_t ackSeq, uint8_t accepted, uint8_t op, std::string_view chars = {}) {
  Bytes b = bytesOf(chars);
  return SolPacket{seq, ackSeq, accepted, op, b}.encode();
}

class SolTransportTest : public ::testing::Test {
 protected:
  SolTransportTest() { timing.accumulateInterval = milliseconds(50); }

  void make(bool withHost = true) {
    SolHost host;
    if (withHost) {
      host.write = [this](ByteView b) {
        const size_t n = std::min(b.size(), hostRoom);
        hostGot += text(b.first(n));
        if (onHostWrite) onHostWrite(b.first(n));
        return n;
      };
    }
    host.sendBreak = [this] { ++breaks; };
    host.lines = [this](bool ring, bool cts, bool dcd) { lines.push_back({ring, cts, dcd}); };
    t = std::make_unique<SolTransport>(timers, timing, host, [this](ByteView p) {
      auto s = SolPacket::parse(p);
      EXPECT_TRUE(s.has_value());
      sent.push_back(Sent{s->seq, s->ackSeq, s->accepted, s->status, text(s->data)});
      return true;
    });
  }

  void advance(milliseconds d) {
    clock.advance(d);
    timers.runDue();
  }
  Sent last() const { return sent.back(); }
  void ackLast(uint8_t op = 0) {
    const Sent s = last();
    t->onPacket(packet(0, s.seq, static_cast<uint8_t>(s.chars.size()), op));
  }

  FakeClock clock;
  TimerQueue timers{clock};
  SolTiming timing;
  std::unique_ptr<SolTransport> t;
  std::vector<Sent> sent;
  std::string hostGot;
  size_t hostRoom = SIZE_MAX;
  int breaks = 0;
  struct Lines {
    bool ring, cts, dcd;
  };
  std::vector<Lines> lines;
  std::function<void(ByteView)> onHostWrite;
};

TEST(SolPacketTest, ParsesTheFourByteHeaderAndCharacters) {
  const Bytes raw = {0x83, 0x25, 0x07, 0x90, 'h', 'i'};  // reserved upper nibbles and bit 7 ignored
  auto p = SolPacket::parse(raw);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->seq, 3);
  EXPECT_EQ(p->ackSeq, 5);
  EXPECT_EQ(p->accepted, 7);
  EXPECT_EQ(p->status, 0x10);
  EXPECT_EQ(text(p->data), "hi");
  EXPECT_EQ((SolPacket{3, 5, 7, 0x10, p->data}.encode()), (Bytes{0x03, 0x05, 0x07, 0x10, 'h', 'i'}));
}

TEST(SolPacketTest, ShorterThanTheHeaderIsMalformed) {
  for (size_t n = 0; n < 4; ++n) EXPECT_FALSE(SolPacket::parse(Bytes(n, 1)).has_value()) << n;
  EXPECT_TRUE(SolPacket::parse(Bytes(4, 0)).has_value());
}

TEST_F(SolTransportTest, HostOutputWaitsForTheAccumulateInterval) {
  make();
  t->hostOutput(bytesOf("abc"));
  EXPECT_TRUE(sent.empty());
  advance(milliseconds(49));
  EXPECT_TRUE(sent.empty());
  t->hostOutput(bytesOf("d"));  // later characters do not restart the interval
  advance(milliseconds(1));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(last().seq, 1);
  EXPECT_EQ(last().ackSeq, 0);
  EXPECT_EQ(last().chars, "abcd");
  EXPECT_EQ(last().status, 0);
}

TEST_F(SolTransportTest, TheSendThresholdSendsAtOnce) {
  timing.sendThreshold = 8;
  make();
  t->hostOutput(bytesOf("1234567"));
  EXPECT_TRUE(sent.empty());
  t->hostOutput(bytesOf("8"));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(last().chars, "12345678");
}

TEST_F(SolTransportTest, OnePacketOutstandingAndTheNextGoesOnTheAck) {
  timing.sendThreshold = 4;
  make();
  t->hostOutput(bytesOf("abcd"));
  t->hostOutput(bytesOf("efgh"));
  ASSERT_EQ(sent.size(), 1u);  // "efgh" waits for the ACK of packet 1
  EXPECT_TRUE(t->awaitingAck());
  ackLast();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(last().seq, 2);
  EXPECT_EQ(last().chars, "efgh");
  ackLast();
  EXPECT_FALSE(t->awaitingAck());
  EXPECT_EQ(sent.size(), 2u);  // ACK-only packets from the console are not answered
}

TEST_F(SolTransportTest, PacketsCarryAtMostTheNegotiatedCharacters) {
  timing.maxCharsPerPacket = 255;
  make();
  t->hostOutput(Bytes(600, 'x'));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(last().chars.size(), 255u);
  ackLast();
  EXPECT_EQ(last().chars.size(), 255u);
  ackLast();  // 90 left, below the threshold but older than the interval? no: they wait for it
  EXPECT_EQ(sent.size(), 2u);
  advance(milliseconds(50));
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(last().chars.size(), 90u);
}

TEST_F(SolTransportTest, SequenceNumbersRunOneToFifteenAndWrap) {
  timing.sendThreshold = 1;
  make();
  std::vector<uint8_t> seqs;
  for (int i = 0; i < 17; ++i) {
    t->hostOutput(bytesOf("x"));
    seqs.push_back(last().seq);
    ackLast();
  }
  const std::vector<uint8_t> want = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1, 2};
  EXPECT_EQ(seqs, want);
}

TEST_F(SolTransportTest, UnackedPacketsAreRetriedAtTheIntervalRetryCountTimes) {
  timing.retryCount = 3;
  timing.retryInterval = milliseconds(200);
  timing.sendThreshold = 1;
  make();
  t->hostOutput(bytesOf("hello"));
  ASSERT_EQ(sent.size(), 1u);
  advance(milliseconds(199));
  EXPECT_EQ(sent.size(), 1u);
  for (int i = 0; i < 3; ++i) {
    advance(milliseconds(1));
    ASSERT_EQ(sent.size(), 2u + i) << "retry " << i;
    EXPECT_EQ(last().seq, 1);  // the same packet: same number, same characters
    EXPECT_EQ(last().chars, "hello");
    advance(milliseconds(199));
  }
  // Retries spent: the characters are kept and probed for slowly (not at the retry interval).
  advance(milliseconds(1));
  EXPECT_EQ(sent.size(), 4u);
  EXPECT_EQ(t->stats().retransmits, 3u);
  advance(SolTransport::kStalledProbe - milliseconds(1));
  EXPECT_EQ(sent.size(), 4u);
  advance(milliseconds(1));
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(last().chars, "hello");
  // The console speaks again (here an ACK-only packet for nothing): resend at once.
  t->onPacket(packet(0, 0, 0, 0));
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(last().seq, 1);
  EXPECT_EQ(last().chars, "hello");
  ackLast();
  EXPECT_FALSE(t->awaitingAck());
  EXPECT_EQ(timers.size(), 0u);
}

TEST_F(SolTransportTest, ZeroRetriesMeansNoRetransmissionAtTheRetryInterval) {
  timing.retryCount = 0;
  timing.sendThreshold = 1;
  make();
  t->hostOutput(bytesOf("x"));
  advance(SolTransport::kStalledProbe);
  EXPECT_EQ(sent.size(), 1u);
}

TEST_F(SolTransportTest, APartialAckResendsTheRestUnderANewSequenceNumber) {
  timing.sendThreshold = 1;
  make();
  t->hostOutput(bytesOf("abcde"));
  t->onPacket(packet(0, 1, 2, 0));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(last().seq, 2);
  EXPECT_EQ(last().chars, "cde");
  ackLast();
  EXPECT_EQ(t->stats().charsToConsole, 5u);
}

TEST_F(SolTransportTest, ANackHoldsTheRestForOneRetryInterval) {
  timing.sendThreshold = 1;
  timing.retryInterval = milliseconds(300);
  make();
  t->hostOutput(bytesOf("abcde"));
  t->onPacket(packet(0, 1, 1, sol::kOpNack));
  EXPECT_EQ(sent.size(), 1u);
  advance(milliseconds(299));
  EXPECT_EQ(sent.size(), 1u);
  advance(milliseconds(1));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(last().chars, "bcde");
}

TEST_F(SolTransportTest, AnAckForAnotherSequenceNumberIsIgnored) {
  timing.sendThreshold = 1;
  make();
  t->hostOutput(bytesOf("a"));
  t->onPacket(packet(0, 7, 1, 0));
  EXPECT_TRUE(t->awaitingAck());
}

TEST_F(SolTransportTest, ConsoleCharactersReachTheHostOnceAndAreAcked) {
  make();
  t->onPacket(packet(1, 0, 0, 0, "ls\r"));
  EXPECT_EQ(hostGot, "ls\r");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(last().seq, 0);
  EXPECT_EQ(last().ackSeq, 1);
  EXPECT_EQ(last().accepted, 3);
  EXPECT_EQ(last().status, 0);
  // The console did not get our ACK and sends the packet again: ACK again, do not deliver again.
  t->onPacket(packet(1, 0, 0, 0, "ls\r"));
  EXPECT_EQ(hostGot, "ls\r");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(last().ackSeq, 1);
  EXPECT_EQ(last().accepted, 3);
  EXPECT_EQ(t->stats().duplicates, 1u);
  t->onPacket(packet(2, 0, 0, 0, "x"));
  EXPECT_EQ(hostGot, "ls\rx");
}

TEST_F(SolTransportTest, TheFirstKeystrokeIsDelivered) {
  make();
  t->onPacket(packet(1, 0, 0, 0, "a"));  // ipmitool and ipmiconsole both start at 1
  EXPECT_EQ(hostGot, "a");
}

TEST_F(SolTransportTest, WhatABusyHostCannotTakeWaitsInTheInboundQueueInOrder) {
  make();
  hostRoom = 2;
  t->onPacket(packet(1, 0, 0, 0, "abcde"));
  EXPECT_EQ(hostGot, "ab");
  EXPECT_EQ(last().accepted, 5);  // queued counts as accepted: no partial ACK to disagree about
  EXPECT_EQ(t->inboundQueued(), 3u);
  hostRoom = 0;
  t->onPacket(packet(2, 0, 0, 0, "fg"));  // behind the queue, not past it
  EXPECT_EQ(hostGot, "ab");
  advance(SolTransport::kInboundRetry);
  EXPECT_EQ(hostGot, "ab");  // still no room
  hostRoom = SIZE_MAX;
  advance(SolTransport::kInboundRetry);
  EXPECT_EQ(hostGot, "abcdefg");
  EXPECT_EQ(t->inboundQueued(), 0u);
  EXPECT_EQ(timers.size(), 0u);
  EXPECT_EQ(t->stats().charsToHost, 7u);
}

TEST_F(SolTransportTest, MoreThan255CharactersAreTakenWholeAndAckedAs255) {
  make();
  const std::string chars(259, 'p');  // pyghmi's packet after an Activate Payload that said 259
  t->onPacket(packet(1, 0, 0, 0, chars));
  EXPECT_EQ(hostGot, chars);
  EXPECT_EQ(last().ackSeq, 1);
  EXPECT_EQ(last().accepted, 255);
  EXPECT_EQ(last().status, 0);
  t->onPacket(packet(1, 0, 0, 0, chars));  // a retransmission gets the same answer, nothing more
  EXPECT_EQ(last().accepted, 255);
  EXPECT_EQ(hostGot, chars);
}

TEST_F(SolTransportTest, AFullInboundQueueGivesAPartialAckNotANack) {
  timing.inboundLimit = 3;
  make();
  hostRoom = 0;
  t->onPacket(packet(1, 0, 0, 0, "abcde"));
  EXPECT_EQ(last().accepted, 3);
  EXPECT_EQ(last().status & sol::kStNack, 0);  // ipmitool resends the rest only after an ACK
  hostRoom = SIZE_MAX;
  advance(SolTransport::kInboundRetry);
  t->onPacket(packet(2, 0, 0, 0, "de"));  // what ipmitool does with a partial ACK
  EXPECT_EQ(hostGot, "abcde");
}

TEST_F(SolTransportTest, FlushInboundDropsQueuedConsoleCharacters) {
  make();
  hostRoom = 0;
  t->onPacket(packet(1, 0, 0, 0, "old"));
  hostRoom = SIZE_MAX;
  t->onPacket(packet(2, 0, 0, sol::kOpFlushInbound, "new"));
  advance(SolTransport::kInboundRetry);
  EXPECT_EQ(hostGot, "new");
}

TEST_F(SolTransportTest, TheEchoOfAKeystrokeRidesOnItsAck) {
  make();
  onHostWrite = [this](ByteView b) { t->hostOutput(b); };  // a host that echoes synchronously
  t->onPacket(packet(1, 0, 0, 0, "k"));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(last().seq, 1);
  EXPECT_EQ(last().ackSeq, 1);
  EXPECT_EQ(last().accepted, 1);
  EXPECT_EQ(last().chars, "k");
}

TEST_F(SolTransportTest, ADataPacketAlsoAcksOurs) {
  timing.sendThreshold = 1;
  make();
  t->hostOutput(bytesOf("prompt$ "));
  ASSERT_EQ(sent.size(), 1u);
  t->onPacket(packet(1, 1, 8, 0, "a"));  // ipmiconsole: keystroke + ACK in one packet
  EXPECT_FALSE(t->awaitingAck());
  EXPECT_EQ(hostGot, "a");
  EXPECT_EQ(last().ackSeq, 1);
}

TEST_F(SolTransportTest, CharactersInAnAckOnlyPacketAreIgnored) {
  make();
  t->onPacket(packet(0, 0, 0, 0, "zzz"));
  EXPECT_EQ(hostGot, "");
  EXPECT_TRUE(sent.empty());
}

TEST_F(SolTransportTest, BreakIsGeneratedOncePerPacket) {
  make();
  t->onPacket(packet(1, 0, 0, sol::kOpBreak));
  t->onPacket(packet(1, 0, 0, sol::kOpBreak));  // retransmission
  EXPECT_EQ(breaks, 1);
  EXPECT_EQ(last().ackSeq, 1);
  t->onPacket(packet(0, 0, 0, sol::kOpBreak));  // ACK-only packets carry no operations
  EXPECT_EQ(breaks, 1);
}

TEST_F(SolTransportTest, CtsPauseHoldsHostOutputUntilReleased) {
  timing.sendThreshold = 1;
  make();
  t->onPacket(packet(1, 0, 0, sol::kOpCtsPause));
  EXPECT_TRUE(t->ctsPaused());
  const size_t before = sent.size();
  t->hostOutput(bytesOf("held"));
  advance(milliseconds(1000));
  EXPECT_EQ(sent.size(), before);
  t->onPacket(packet(2, 0, 0, 0));
  EXPECT_FALSE(t->ctsPaused());
  EXPECT_EQ(last().chars, "held");
  EXPECT_EQ(last().ackSeq, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].cts);
  EXPECT_FALSE(lines[1].cts);
}

TEST_F(SolTransportTest, RingAndDcdDsrReachTheHostPort) {
  make();
  t->onPacket(packet(1, 0, 0, sol::kOpRingWor | sol::kOpDropDcdDsr));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ring);
  EXPECT_TRUE(lines[0].dcd);
  EXPECT_FALSE(lines[0].cts);
}

TEST_F(SolTransportTest, FlushOutboundDropsWaitingHostOutput) {
  make();
  t->hostOutput(bytesOf("old"));
  t->onPacket(packet(1, 0, 0, sol::kOpFlushOutbound));
  advance(milliseconds(100));
  for (const Sent& s : sent) EXPECT_EQ(s.chars.find("old"), std::string::npos);
  EXPECT_EQ(t->pendingCharacters(), 0u);
}

TEST_F(SolTransportTest, OverflowingHostOutputIsReportedAsTransmitOverrun) {
  timing.bufferLimit = 4;
  make();
  t->hostOutput(bytesOf("abcdef"));
  EXPECT_EQ(t->stats().charsLost, 2u);
  advance(milliseconds(50));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(last().chars, "abcd");
  EXPECT_EQ(last().status, sol::kStTransmitOverrun);
  ackLast();
  t->hostOutput(bytesOf("g"));
  advance(milliseconds(50));
  EXPECT_EQ(last().status, 0);  // reported once
}

TEST_F(SolTransportTest, WithoutAHostPortTransferIsUnavailableAndCharactersAreDiscarded) {
  make(false);
  t->onPacket(packet(1, 0, 0, 0, "abc"));
  EXPECT_EQ(last().accepted, 3);  // consumed, so the console does not resend them forever
  EXPECT_EQ(last().status, sol::kStTransferUnavailable);
  EXPECT_EQ(t->stats().charsToHost, 0u);
}

TEST_F(SolTransportTest, StartHoldsTheBacklogOneIntervalEvenAboveTheThreshold) {
  timing.sendThreshold = 2;
  make();
  t->start(bytesOf("boot log\r\nlogin: "));
  t->hostOutput(bytesOf("more"));
  EXPECT_TRUE(sent.empty());
  advance(milliseconds(50));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(last().chars, "boot log\r\nlogin: more");
}

TEST_F(SolTransportTest, DeactivateSendsOneStatusPacketAndGoesQuiet) {
  timing.sendThreshold = 1;
  make();
  t->hostOutput(bytesOf("x"));
  t->deactivate();
  EXPECT_EQ(last().seq, 0);
  EXPECT_EQ(last().status, sol::kStDeactivating);
  EXPECT_EQ(timers.size(), 0u);
  const size_t n = sent.size();
  t->hostOutput(bytesOf("y"));
  EXPECT_FALSE(t->onPacket(packet(1, 1, 1, 0, "z")));
  advance(milliseconds(5000));
  EXPECT_EQ(sent.size(), n);
  EXPECT_EQ(hostGot, "");
}

TEST_F(SolTransportTest, DestroyingTheTransportCancelsItsTimers) {
  make();
  t->hostOutput(bytesOf("x"));
  EXPECT_GT(timers.size(), 0u);
  t.reset();
  EXPECT_EQ(timers.size(), 0u);
  advance(milliseconds(5000));
  EXPECT_TRUE(sent.empty());
}

TEST_F(SolTransportTest, MalformedPacketsAreCountedAndChangeNothing) {
  make();
  EXPECT_FALSE(t->onPacket(Bytes{1, 2}));
  EXPECT_EQ(t->stats().malformed, 1u);
  EXPECT_TRUE(sent.empty());
}

// A lossy link in both directions, a console that behaves like ipmitool/ipmiconsole (ACKs every
// character packet, drops a repeated sequence number, retransmits its own packet until ACKed) and
// a host that writes a known stream: every character arrives once, in order, both ways.
TEST_F(SolTransportTest, EveryCharacterArrivesOnceOverALossyLink) {
  timing.retryInterval = milliseconds(100);
  timing.retryCount = 2;
  timing.sendThreshold = 16;
  timing.maxCharsPerPacket = 32;
  std::mt19937 rng(12345);
  std::bernoulli_distribution lose(0.25);
  std::vector<Bytes> toConsole;  // packets in flight BMC -> console
  make();
  // Replace the recording link by the lossy one.
  t = std::make_unique<SolTransport>(timers, timing,
                                     SolHost{[this](ByteView b) {
                                               hostGot += text(b);
                                               return b.size();
                                             },
                                             {}, {}},
                                     [&](ByteView p) {
                                       if (!lose(rng)) toConsole.emplace_back(p.begin(), p.end());
                                       return true;
                                     });
  std::string hostStream, consoleStream, consoleGot;
  for (int i = 0; i < 3000; ++i) hostStream.push_back(static_cast<char>('A' + i % 26));
  for (int i = 0; i < 500; ++i) consoleStream.push_back(static_cast<char>('a' + i % 26));

  uint8_t lastSeen = 0, mySeq = 0;
  size_t hostSent = 0, typed = 0;
  std::string inFlight;
  milliseconds myRetry{0};
  for (int step = 0; step < 200000 && (consoleGot.size() < hostStream.size() || hostGot.size() < consoleStream.size());
       ++step) {
    if (hostSent < hostStream.size() && step % 3 == 0) {
      const size_t n = std::min<size_t>(7, hostStream.size() - hostSent);
      t->hostOutput(bytesOf(std::string_view(hostStream).substr(hostSent, n)));
      hostSent += n;
    }
    // Console side: consume what arrived.
    std::vector<Bytes> arrived;
    arrived.swap(toConsole);
    for (const Bytes& b : arrived) {
      auto p = SolPacket::parse(b);
      ASSERT_TRUE(p.has_value());
      if (p->ackSeq != 0 && p->ackSeq == mySeq && !inFlight.empty()) {
        inFlight.erase(0, p->accepted);
        if (inFlight.empty()) typed += 0;
      }
      if (p->seq != 0) {
        if (p->seq != lastSeen) consoleGot += text(p->data);
        lastSeen = p->seq;
        if (!lose(rng)) t->onPacket(packet(0, p->seq, static_cast<uint8_t>(p->data.size()), 0));
      }
    }
    // Console keystrokes, one packet outstanding, retransmitted unchanged every 150 ms.
    if (inFlight.empty() && typed < consoleStream.size()) {
      const size_t n = std::min<size_t>(5, consoleStream.size() - typed);
      inFlight = consoleStream.substr(typed, n);
      typed += n;
      mySeq = static_cast<uint8_t>(mySeq % 15 + 1);
      myRetry = milliseconds(0);
      if (!lose(rng)) t->onPacket(packet(mySeq, 0, 0, 0, inFlight));
    } else if (!inFlight.empty() && (myRetry += milliseconds(10)) >= milliseconds(150)) {
      myRetry = milliseconds(0);
      if (!lose(rng)) t->onPacket(packet(mySeq, 0, 0, 0, inFlight));
    }
    advance(milliseconds(10));
  }
  EXPECT_EQ(consoleGot, hostStream);
  EXPECT_EQ(hostGot, consoleStream);
  EXPECT_GT(t->stats().retransmits, 0u);
  EXPECT_GT(t->stats().duplicates, 0u);
}

}  // namespace
}  // namespace simbmc::net
