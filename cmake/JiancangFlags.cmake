# One INTERFACE target carries the warning and sanitizer flags; every jiancang target links it.
add_library(jiancang_build_flags INTERFACE)
target_compile_options(jiancang_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough -Wmissing-declarations -Wformat=2
  $<$<CXX_COMPILER_ID:GNU>:-Wzero-as-null-pointer-constant>)
if(JIANCANG_WERROR)
  target_compile_options(jiancang_build_flags INTERFACE -Werror)
endif()

if(JIANCANG_SANITIZE)
  target_compile_options(jiancang_build_flags INTERFACE
    -fsanitize=${JIANCANG_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(jiancang_build_flags INTERFACE -fsanitize=${JIANCANG_SANITIZE})
endif()

if(JIANCANG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "JIANCANG_FUZZ needs clang (use the 'fuzz' preset)")
  endif()
  # Libraries get coverage instrumentation; only the fuzz executables link the libFuzzer main.
  target_compile_options(jiancang_build_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
    -UNDEBUG)  # invariant assertions stay on while fuzzing
  target_link_options(jiancang_build_flags INTERFACE -fsanitize=address,undefined)
endif()
