// ProcStatusKb: one "kB" field of /proc/<pid>/status (VmRSS, VmHWM, ...), for
// tests that bound a process's memory. (bench/ reads the same file through
// ChildProcess::StatusKb; bench does not link the test support.)
#pragma once

#include <sys/types.h>

namespace regd::testing {

// The field's value in KiB, or -1 if the process or the field is not there.
long ProcStatusKb(pid_t pid, const char* field);

}  // namespace regd::testing
