#include "sensors/executor.hpp"

namespace simbmc::sensors {

ThreadExecutor::~ThreadExecutor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ThreadExecutor::submit(Work work, Done done) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    queue_.emplace_back(std::move(work), std::move(done));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_one();
}

void ThreadExecutor::run() {
  for (;;) {
    std::pair<Work, Done> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Result<double> r = makeError(Error::Kind::internal, "sensor read threw");
    try {
      r = job.first();
    } catch (...) {
      // Exceptions do not cross into the io thread; the sensor just reads unavailable.
    }
    post_([done = std::move(job.second), r = std::move(r)]() { done(r); });
  }
}

}  // namespace simbmc::sensors
