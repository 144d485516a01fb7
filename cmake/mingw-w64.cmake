# cmake/mingw-w64.cmake -- CMake toolchain file: cross-compile for 64-bit
# Windows with the Debian MinGW-w64 toolchain (gcc-mingw-w64-x86-64) and run
# target programs (try_run, ctest, add_custom_command on executables) under
# Wine.
#
#   cmake -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake \
#         -DCMAKE_PREFIX_PATH=$PWD/build/windows-deps/install -B build/win
#
# Overridable cache variables / environment:
#   MINGW_TRIPLET      (default x86_64-w64-mingw32)
#   MINGW_SYSROOT      (default /usr/${MINGW_TRIPLET})
#   CMAKE_C_COMPILER / CMAKE_CXX_COMPILER / CMAKE_RC_COMPILER
#   CMAKE_CROSSCOMPILING_EMULATOR (e.g. "" to disable Wine)
#
# Windows version macros (_WIN32_WINNT, WINVER) are intentionally NOT set
# here; the project sets them.

set(CMAKE_SYSTEM_NAME Windows)

# cmake/mingw-w64-i686.cmake sets the 32-bit triplet before including this.
set(MINGW_TRIPLET "x86_64-w64-mingw32" CACHE STRING "MinGW-w64 target triplet")
if(MINGW_TRIPLET MATCHES "^i[3-6]86-")
  set(CMAKE_SYSTEM_PROCESSOR x86)
else()
  set(CMAKE_SYSTEM_PROCESSOR x86_64)
endif()
set(MINGW_SYSROOT "/usr/${MINGW_TRIPLET}" CACHE PATH "MinGW-w64 target root")

# Host programs must be searched for on the host, not in the target root.
# (Set before the find_program() calls below.)
set(CMAKE_FIND_ROOT_PATH "${MINGW_SYSROOT}")
# Dependency prefixes (e.g. build/windows-deps/install) are target roots too:
# otherwise find_library()/find_path() -- and pkg_check_modules(), which
# resolves -l flags with find_library() -- re-root them below the MinGW root
# and find nothing. Paths already inside a root are searched unchanged.
foreach(_mingw_prefix IN LISTS CMAKE_PREFIX_PATH)
  list(APPEND CMAKE_FIND_ROOT_PATH "${_mingw_prefix}")
endforeach()
if(DEFINED ENV{CMAKE_PREFIX_PATH})
  string(REPLACE ":" ";" _mingw_env_prefixes "$ENV{CMAKE_PREFIX_PATH}")
  list(APPEND CMAKE_FIND_ROOT_PATH ${_mingw_env_prefixes})
endif()
list(REMOVE_DUPLICATES CMAKE_FIND_ROOT_PATH)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# BOTH so that a dependency prefix passed in CMAKE_PREFIX_PATH (which lies
# outside the MinGW root) is found by find_package().
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Find "<triplet>-<tool>"; the "-posix" variant (alternatives-independent) is
# used only when the plain name is absent.
function(_mingw_find_tool var tool)
  if(DEFINED ${var} AND NOT "${${var}}" STREQUAL "")
    return()  # given by the user (-D...) or already cached
  endif()
  find_program(_mingw_${tool}_plain NAMES "${MINGW_TRIPLET}-${tool}"
               NO_CMAKE_FIND_ROOT_PATH)
  if(_mingw_${tool}_plain)
    set(_path "${_mingw_${tool}_plain}")
  else()
    find_program(_mingw_${tool}_posix NAMES "${MINGW_TRIPLET}-${tool}-posix"
                 NO_CMAKE_FIND_ROOT_PATH)
    set(_path "${_mingw_${tool}_posix}")
  endif()
  if(NOT _path)
    message(FATAL_ERROR
      "mingw-w64.cmake: ${MINGW_TRIPLET}-${tool} not found in PATH. "
      "Install the Debian MinGW-w64 toolchain: "
      "apt-get install gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 binutils-mingw-w64-x86-64")
  endif()
  set(${var} "${_path}" PARENT_SCOPE)
endfunction()

_mingw_find_tool(CMAKE_C_COMPILER gcc)
_mingw_find_tool(CMAKE_RC_COMPILER windres)
# g++ is optional (the project is C); only set it when available so that a
# C-only configure does not need g++-mingw-w64.
find_program(_mingw_gxx_plain NAMES "${MINGW_TRIPLET}-g++" NO_CMAKE_FIND_ROOT_PATH)
find_program(_mingw_gxx_posix NAMES "${MINGW_TRIPLET}-g++-posix" NO_CMAKE_FIND_ROOT_PATH)
if(NOT DEFINED CMAKE_CXX_COMPILER OR "${CMAKE_CXX_COMPILER}" STREQUAL "")
  if(_mingw_gxx_plain)
    set(CMAKE_CXX_COMPILER "${_mingw_gxx_plain}")
  elseif(_mingw_gxx_posix)
    set(CMAKE_CXX_COMPILER "${_mingw_gxx_posix}")
  endif()
endif()

# pkg-config: never pick up the build machine's .pc files (e.g. the native
# libuv1-dev / libcjson-dev ones). FindPkgConfig still searches
# <prefix>/lib/pkgconfig of every CMAKE_PREFIX_PATH entry on top of this.
if(NOT DEFINED ENV{PKG_CONFIG_LIBDIR})
  set(ENV{PKG_CONFIG_LIBDIR}
      "${MINGW_SYSROOT}/lib/pkgconfig:${MINGW_SYSROOT}/share/pkgconfig")
endif()

# Run cross-built executables under Wine. Debian's wine64 package installs
# the 64-bit loader as /usr/lib/wine/wine64 (not on PATH); /usr/bin/wine is a
# wrapper script that picks it (and nags about wine32 unless WINEDEBUG
# contains -all).
# 32-bit programs need the wrapper (and wine32, which runs them under WoW64).
if(CMAKE_SYSTEM_PROCESSOR STREQUAL "x86")
  set(_mingw_wine_names wine)
else()
  set(_mingw_wine_names wine64 wine)
endif()
if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(MINGW_WINE NAMES ${_mingw_wine_names}
               PATHS /usr/lib/wine /usr/lib64/wine /opt/wine-stable/bin
               NO_CMAKE_FIND_ROOT_PATH
               DOC "Wine loader used as CMAKE_CROSSCOMPILING_EMULATOR")
  if(MINGW_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${MINGW_WINE}")
  endif()
endif()

# Link libgcc (and, for executables, everything else: winpthread, libssp...)
# statically so that no MinGW runtime DLLs have to be shipped or found by
# Wine. *_INIT only seeds the cache on the first configure.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc -static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")
