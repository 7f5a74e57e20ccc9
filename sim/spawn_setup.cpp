#include "sim/spawn_setup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace simbmc::sim {

SpawnSetup::SpawnSetup() {
  okActions_ = posix_spawn_file_actions_init(&actions_) == 0;
  okAttr_ = posix_spawnattr_init(&attr_) == 0;
}

SpawnSetup::~SpawnSetup() {
  if (okActions_) posix_spawn_file_actions_destroy(&actions_);
  if (okAttr_) posix_spawnattr_destroy(&attr_);
}

int SpawnSetup::configure(std::optional<int> stdio) {
  if (!okActions_ || !okAttr_) return ENOMEM;
  if (stdio) {
    for (int target : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
      if (int rc = posix_spawn_file_actions_adddup2(&actions_, *stdio, target)) return rc;
    }
  } else if (int rc = posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) {
    return rc;
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  if (int rc = posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1)) return rc;
#endif
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&defaults, sig);
  sigset_t emptyMask;
  sigemptyset(&emptyMask);
  if (int rc = posix_spawnattr_setsigdefault(&attr_, &defaults)) return rc;
  if (int rc = posix_spawnattr_setsigmask(&attr_, &emptyMask)) return rc;
  if (int rc = posix_spawnattr_setpgroup(&attr_, 0)) return rc;
  return posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
}

}  // namespace simbmc::sim
