// ReadExecutor: where blocking sensor reads (hwmon, i2c, file) run, so an IPMI request never waits
// on I/O. `submit` runs `work` somewhere and then `done` with its result on the owner's thread (the
// io_context thread in the daemon).
//   InlineExecutor runs both at once on the caller's thread: unit tests, and tools that have no
//     event loop.
//   ThreadExecutor runs work on one worker thread, started on the first submit (an instance with
//     only simulated sensors never starts it), and hands results back through `post`, a
//     thread-safe "run this on the io thread" (boost::asio::post in the daemon). Its destructor
//     drops queued work, waits for the read in progress and joins; results already posted may
//     still run, so `done` must guard itself against its owner being gone (SensorHub does).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "common/result.hpp"

namespace simbmc::sensors {

class ReadExecutor {
 public:
  using Work = std::function<Result<double>()>;
  using Done = std::function<void(Result<double>)>;
  virtual ~ReadExecutor() = default;
  virtual void submit(Work work, Done done) = 0;
};

class InlineExecutor final : public ReadExecutor {
 public:
  void submit(Work work, Done done) override { done(work()); }
};

class ThreadExecutor final : public ReadExecutor {
 public:
  using Post = std::function<void(std::function<void()>)>;
  explicit ThreadExecutor(Post post) : post_(std::move(post)) {}
  ~ThreadExecutor() override;
  ThreadExecutor(const ThreadExecutor&) = delete;
  ThreadExecutor& operator=(const ThreadExecutor&) = delete;

  void submit(Work work, Done done) override;

 private:
  void run();

  Post post_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Work, Done>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace simbmc::sensors
