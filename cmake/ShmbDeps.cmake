# SPDX-License-Identifier: MPL-2.0
# Finds cJSON and libuv and exposes them as
# shmb::cjson and shmb::uv. find_package first (vcpkg, our MinGW prefix,
# Debian's cJSON), pkg-config second (Debian's libuv).
find_package(PkgConfig QUIET)

find_package(cJSON CONFIG QUIET)
if(TARGET cjson)
  add_library(shmb_cjson INTERFACE)
  target_link_libraries(shmb_cjson INTERFACE cjson)
  # Some cJSON configs put include/cjson on the path, some include/: we
  # include <cjson/cJSON.h>, so make sure the parent is there too.
  if(CJSON_INCLUDE_DIRS)
    foreach(dir IN LISTS CJSON_INCLUDE_DIRS)
      if(dir MATCHES "/cjson/?$")
        get_filename_component(parent "${dir}" DIRECTORY)
        target_include_directories(shmb_cjson INTERFACE "${parent}")
      endif()
    endforeach()
  endif()
elseif(PKG_CONFIG_FOUND)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
  add_library(shmb_cjson INTERFACE)
  target_link_libraries(shmb_cjson INTERFACE PkgConfig::CJSON)
else()
  message(FATAL_ERROR "cJSON not found: install libcjson-dev (Debian), "
                      "'vcpkg install cjson', or run scripts/deps-mingw.sh")
endif()
if(MINGW)
  # cJSON.h marks its API dllexport unless told otherwise; with the static
  # library that would export cJSON from our executables.
  target_compile_definitions(shmb_cjson INTERFACE CJSON_HIDE_SYMBOLS)
endif()
add_library(shmb::cjson ALIAS shmb_cjson)

# libuv everywhere: the Windows service runs on it, and its portable server
# is also built natively for the tests. The client never needs it.
if(SHMB_CLIENT_ONLY)
  return()
endif()
find_package(libuv CONFIG QUIET)
add_library(shmb_uv INTERFACE)
if(TARGET libuv::uv_a)
  target_link_libraries(shmb_uv INTERFACE libuv::uv_a)
elseif(TARGET uv_a)
  target_link_libraries(shmb_uv INTERFACE uv_a)
elseif(TARGET libuv::uv)
  target_link_libraries(shmb_uv INTERFACE libuv::uv)
elseif(TARGET uv)
  target_link_libraries(shmb_uv INTERFACE uv)
elseif(PKG_CONFIG_FOUND AND WIN32)
  pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv-static)
  target_link_libraries(shmb_uv INTERFACE PkgConfig::LIBUV)
elseif(PKG_CONFIG_FOUND)
  pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
  target_link_libraries(shmb_uv INTERFACE PkgConfig::LIBUV)
else()
  message(FATAL_ERROR "libuv not found: install libuv1-dev (Debian), "
                      "'vcpkg install libuv', or run scripts/deps-mingw.sh")
endif()
if(WIN32)
  # A static libuv needs these; harmless when the target already lists them.
  target_link_libraries(shmb_uv INTERFACE ws2_32 iphlpapi userenv psapi
                                          dbghelp ole32 shell32 advapi32)
endif()
add_library(shmb::uv ALIAS shmb_uv)
