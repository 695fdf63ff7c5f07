// ProcStatusKb: one "kB" field of /proc/<pid>/status (VmRSS, VmHWM, ...), for
// tests that bound a process's memory. bench/ compiles this one file too
// (ChildProcess::StatusKb), so it must stay free of Catch2 and test fixtures.
#pragma once

#include <sys/types.h>

namespace regd::testing {

// The field's value in KiB, or -1 if the process or the field is not there.
long ProcStatusKb(pid_t pid, const char* field);

}  // namespace regd::testing
