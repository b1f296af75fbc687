# Third-party dependencies, all from Debian packages installed by scripts/bootstrap.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(OpenSSL 3.0 REQUIRED COMPONENTS Crypto)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(absl REQUIRED)
find_package(RocksDB REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS headers)
find_package(Threads REQUIRED)
# The etcd orderer talks to etcd's JSON gateway and to other members over HTTP.
find_package(CURL REQUIRED)
# `jiancang node --config FILE`
find_package(tomlplusplus REQUIRED)

# jemalloc for the shipped binary: the node allocates per request and per block from several
# threads, and glibc's malloc was a fifth of its time (bench/ledger_tps). Not under sanitizers
# or fuzzing, whose runtimes bring their own allocator.
if(JIANCANG_SANITIZE STREQUAL "" AND NOT JIANCANG_FUZZ)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()

# The platform's SQL storage: SQLite embedded by default, PostgreSQL (libpq) when configured.
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
# The optional shared stock gate of a drop (Redis, through hiredis).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)

# Media: decoding images (within limits; libwebp for WebP) and writing thumbnails. Debian's
# libstb.so holds the implementations already, so no STB_*_IMPLEMENTATION is defined anywhere.
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)
pkg_check_modules(WEBP REQUIRED IMPORTED_TARGET libwebp)
# The demo's animation is an animated WebP (app/demo_media.cpp): libwebpmux's encoder.
pkg_check_modules(WEBPMUX REQUIRED IMPORTED_TARGET libwebpmux)
