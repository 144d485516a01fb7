# cmake/mingw-w64-i686.cmake -- CMake toolchain file: cross-compile for
# 32-bit Windows (i686-w64-mingw32, Debian's gcc-mingw-w64-i686). Everything
# else is cmake/mingw-w64.cmake; 32-bit programs run under Wine only where
# wine32 is installed.
set(MINGW_TRIPLET "i686-w64-mingw32" CACHE STRING "MinGW-w64 target triplet")
include("${CMAKE_CURRENT_LIST_DIR}/mingw-w64.cmake")
