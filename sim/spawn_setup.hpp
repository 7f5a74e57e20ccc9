// posix_spawn attributes and file actions for the processes simbmc starts (ExecRunner hooks, the
// command console), with RAII and the same choices for both:
// - stdin is /dev/null, or all three standard streams are one given descriptor (a console's socket);
// - every other descriptor is closed in the child (glibc >= 2.34), so sockets such as UDP 623 do not
//   stay bound in a long-running child after the daemon exits;
// - signals the daemon ignores or blocks (SIGPIPE) are reset: ignored dispositions survive exec;
// - the child gets its own process group (pgid == pid), so stopping it can signal its children too.
#pragma once

#include <spawn.h>

#include <optional>

namespace simbmc::sim {

class SpawnSetup {
 public:
  SpawnSetup();
  ~SpawnSetup();
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // `stdio`: the descriptor to become stdin, stdout and stderr; nullopt for stdin from /dev/null and
  // the daemon's stdout/stderr. Returns 0 or the first error number.
  int configure(std::optional<int> stdio);

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
  bool okActions_ = false;
  bool okAttr_ = false;
};

}  // namespace simbmc::sim
