# Sanitizer and fuzzer builds. Included before any target is defined, so the
# flags reach every library, the regd binary and the tests alike.
#
#   -DREGD_SANITIZE=address,undefined   AddressSanitizer + UBSan (make test-asan)
#   -DREGD_SANITIZE=thread              ThreadSanitizer (make test-tsan)
#   -DREGD_FUZZ=ON                      libFuzzer targets in tests/fuzz (clang only;
#                                       make fuzz), code instrumented for coverage
#
# Sanitized code is built -O1 -g with frame pointers (readable stacks at a
# tolerable speed), and every sanitizer error is fatal
# (-fno-sanitize-recover=all): a report is a failed test, never a warning.
set(REGD_SANITIZE "" CACHE STRING
    "Sanitizers for every target, as for -fsanitize= (address,undefined or thread); empty: none")
option(REGD_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)

if(REGD_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "REGD_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()

if(REGD_SANITIZE MATCHES "thread" AND REGD_SANITIZE MATCHES "address")
  message(FATAL_ERROR "REGD_SANITIZE: thread cannot be combined with address")
endif()

set(regd_instrument "")
if(REGD_SANITIZE)
  list(APPEND regd_instrument -fsanitize=${REGD_SANITIZE})
endif()
if(REGD_FUZZ)
  # Coverage for libFuzzer in every library; the fuzz targets alone link
  # libFuzzer's main (-fsanitize=fuzzer, tests/fuzz/CMakeLists.txt).
  list(APPEND regd_instrument -fsanitize=fuzzer-no-link)
endif()
if(regd_instrument)
  add_compile_options(${regd_instrument} -fno-sanitize-recover=all -fno-omit-frame-pointer
                      -O1 -g)
  add_link_options(${regd_instrument})
  message(STATUS "regd: instrumented build (${regd_instrument})")
endif()
