# SPDX-License-Identifier: MPL-2.0
# The installed client package: a CMake config (find_package(shmbroker
# CONFIG) gives shmbroker::client, static, and shmbroker::client_shared,
# the DLL) and shmbroker.pc for pkg-config (the static library; link with
# `pkg-config --static`). Both are relocatable: they find the prefix from
# their own location.
include(CMakePackageConfigHelpers)

set(SHMB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/shmbroker)
install(EXPORT shmbroker-targets NAMESPACE shmbroker::
        DESTINATION ${SHMB_CMAKE_DIR} FILE shmbroker-targets.cmake)
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/shmbroker-config.cmake.in
  ${CMAKE_BINARY_DIR}/package/shmbroker-config.cmake
  INSTALL_DESTINATION ${SHMB_CMAKE_DIR})
# 0.x: minor versions may break the API, so only the same minor matches.
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/package/shmbroker-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/package/shmbroker-config.cmake
              ${CMAKE_BINARY_DIR}/package/shmbroker-config-version.cmake
        DESTINATION ${SHMB_CMAKE_DIR})

configure_file(${CMAKE_CURRENT_LIST_DIR}/shmbroker.pc.in
               ${CMAKE_BINARY_DIR}/package/shmbroker.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/package/shmbroker.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
