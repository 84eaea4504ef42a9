# What developers get besides the headers: a CMake package (find_package(ntpkit) gives the
# target ntpkit::ntpkit) and a pkg-config file, both in the GNUInstallDirs places.
include(CMakePackageConfigHelpers)

set(NTPKIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ntpkit)
set(NTPKIT_BOOST_VERSION 1.81)
install(EXPORT ntpkit-targets NAMESPACE ntpkit:: DESTINATION ${NTPKIT_CMAKE_DIR}
        FILE ntpkit-targets.cmake COMPONENT development)
configure_package_config_file(cmake/ntpkit-config.cmake.in
  ${PROJECT_BINARY_DIR}/ntpkit-config.cmake INSTALL_DESTINATION ${NTPKIT_CMAKE_DIR})
# SONAME 0 is the ABI: any 0.x satisfies a request for 0.y with y <= x.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ntpkit-config-version.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ntpkit-config.cmake
              ${PROJECT_BINARY_DIR}/ntpkit-config-version.cmake
        DESTINATION ${NTPKIT_CMAKE_DIR} COMPONENT development)

# ntpkit.pc has no Requires: Boost.Asio has no .pc and OpenSSL is loaded by the shared library
# at run time (there is no static one), so consumers need neither at build time.
# ntpkit.pc names the prefix it is installed under, which `cmake --install --prefix` and CPack
# choose only at install time: the template is filled in then (prefix left as a placeholder).
set(NTPKIT_PC_PREFIX "%NTPKIT_PC_PREFIX%")
configure_file(cmake/ntpkit.pc.in ${PROJECT_BINARY_DIR}/ntpkit.pc.in @ONLY)
install(CODE "
  file(READ \"${PROJECT_BINARY_DIR}/ntpkit.pc.in\" pc)
  string(REPLACE \"%NTPKIT_PC_PREFIX%\" \"\${CMAKE_INSTALL_PREFIX}\" pc \"\${pc}\")
  set(dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\")
  file(MAKE_DIRECTORY \"\${dir}\")
  file(WRITE \"\${dir}/ntpkit.pc\" \"\${pc}\")
  message(STATUS \"Installing: \${dir}/ntpkit.pc\")
" COMPONENT development)
