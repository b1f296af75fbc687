// Starting the real servers tests and benchmarks need (PostgreSQL, Redis, nginx) as child
// processes on 127.0.0.1: a free port, fork + exec, and waiting for a PID.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace jiancang::testing {

// The uid/gid a child runs as.
struct Identity {
  uid_t uid;
  gid_t gid;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
unsigned short freePort();

// fork + exec `arguments` (argv[0] a path) with stdout and stderr to `outputFd`; in the child,
// switches to `identity` first when given. Returns the child's PID (or -1).
pid_t spawn(const std::vector<std::string>& arguments, int outputFd,
            const std::optional<Identity>& identity = std::nullopt);

// Waits for `pid`; its exit code, or -1 when it did not exit normally.
int waitExit(pid_t pid);

// True once something accepts TCP connections on 127.0.0.1:`port`.
bool accepting(unsigned short port);

// The resident memory of `pid` (VmRSS in /proc), in bytes; 0 when it cannot be read.
std::int64_t residentBytes(pid_t pid);
// The direct children of `pid` (an nginx master's workers).
std::vector<pid_t> childrenOf(pid_t pid);

}  // namespace jiancang::testing
