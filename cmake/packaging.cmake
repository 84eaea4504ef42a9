# `cpack -G DEB` in a build tree makes ntpkit_<version>_<arch>.deb: the programs,
# libntpkit.so.0, man pages, completions, the check_ntp_time link, the Icinga 2 / Nagios
# command definitions and the JSON schema (component runtime only: no headers, so nothing in
# it needs a -dev package). Depends come from dpkg-shlibdeps, plus libcrypto's package, which
# it cannot see (below). Configure the tree with
# -DCMAKE_INSTALL_PREFIX=/usr for Debian's multiarch library directory; from the default
# prefix the library lands in /usr/lib, which works too. tests/integration/test_package.py
# builds the package from the test build and runs lintian on it.

set(NTPKIT_MAINTAINER "ntpkit developers <ntpkit@example.org>" CACHE STRING
    "Maintainer field of the .deb and its changelog")

# Monitoring definitions, where Icinga 2's ITL and users look for them.
install(FILES contrib/icinga2/ntpkit.conf contrib/icinga2/ntpclients.conf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icinga2/include/plugins-contrib.d COMPONENT runtime)
install(FILES contrib/nagios/ntpkit.cfg contrib/nagios/ntpclients.cfg DESTINATION ${CMAKE_INSTALL_DATADIR}/ntpkit/nagios
        COMPONENT runtime)
# The JSON output's description and schema, for scripts that validate what they read.
install(FILES docs/ntpprobe.schema.json docs/ntpclients.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/ntpkit
        COMPONENT runtime)
install(FILES docs/ntpmon-query.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/ntpkit
        COMPONENT runtime)
install(FILES docs/json.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/ntpkit COMPONENT runtime)

# Man pages compressed with gzip -9n, as Debian ships them (man reads them either way).
foreach(page ntpprobe.1 ntpmon-query.1 ntpclients.1 ntpkit-keys.5)
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/man/${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/man/${page} > ${PROJECT_BINARY_DIR}/man/${page}.gz
    DEPENDS ${PROJECT_SOURCE_DIR}/man/${page})
  list(APPEND NTPKIT_MAN_GZ ${PROJECT_BINARY_DIR}/man/${page}.gz)
endforeach()
add_custom_target(ntpkit_man ALL DEPENDS ${NTPKIT_MAN_GZ})
install(FILES ${PROJECT_BINARY_DIR}/man/ntpprobe.1.gz ${PROJECT_BINARY_DIR}/man/ntpclients.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT runtime)
install(FILES ${PROJECT_BINARY_DIR}/man/ntpmon-query.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT runtime)
install(FILES ${PROJECT_BINARY_DIR}/man/ntpkit-keys.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5
        COMPONENT runtime)

# Debian wants a copyright file and a changelog (gzip -9n: no name or time stamp inside) in
# /usr/share/doc/<package>, and lintian reads its overrides from /usr/share/lintian/overrides.
set(NTPKIT_DEB_DOC ${CMAKE_INSTALL_DATADIR}/doc/ntpkit)
configure_file(packaging/deb/changelog.in ${PROJECT_BINARY_DIR}/packaging/changelog @ONLY)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/packaging/changelog.gz
  COMMAND gzip -9nf -k ${PROJECT_BINARY_DIR}/packaging/changelog
  DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog)
add_custom_target(ntpkit_changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
install(FILES ${PROJECT_BINARY_DIR}/packaging/changelog.gz packaging/deb/copyright
        DESTINATION ${NTPKIT_DEB_DOC} COMPONENT runtime)
install(FILES packaging/deb/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME ntpkit COMPONENT runtime)

set(CPACK_PACKAGE_NAME ntpkit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${NTPKIT_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "NTP test toolkit: query servers without touching the clock")
# CPack puts the summary first, as the synopsis; this is the extended description.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "ntpprobe asks NTP servers over IPv4 and IPv6 for the time and reports offset,
delay, stratum, reference id and every header field, checks each reply the way
an NTP client does, and supports symmetric keys (ntp.keys and chrony.keys).
It never sets, slews or steps the local clock.
.
Output is aligned text, one JSON document, Prometheus metrics for the
node_exporter textfile collector, or a monitoring plugin status line for
Nagios, Icinga and Naemon; as check_ntp_time it is a drop-in replacement for
that plugin.
.
ntpmon-query reads an ntpd's own state over mode 6 as ntpq does (system, peer
and clock variables, associations, the peers table) as aligned text, JSON or
Prometheus metrics; as check_ntp_peer it is a drop-in replacement for that
plugin.
.
ntpclients counts an NTP server's clients and measures how fast it answers
them (the delta time between each request and its answer on the wire), from
pcap and pcapng files, a live capture or ntpd's MRU list, as text, JSON, CSV,
Prometheus metrics, an SVG plot or a plugin status line. Icinga 2 and Nagios
command definitions are included.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# What reads ntpprobe's output: the textfile collector, a monitoring core, jq.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus-node-exporter, icinga2 | nagios4, jq")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libntpkit loads libcrypto with dlopen when a key is first used (lib/proto/crypto.hpp), which
# dpkg-shlibdeps cannot see: name the package that holds the libcrypto built against, with the
# minimum version its shlibs file gives binaries linked to it (CPack appends what
# dpkg-shlibdeps finds for the rest).
find_program(NTPKIT_DPKG_QUERY dpkg-query)
if(NTPKIT_DPKG_QUERY AND OPENSSL_CRYPTO_LIBRARY)
  file(REAL_PATH "${OPENSSL_CRYPTO_LIBRARY}" ntpkit_libcrypto)
  execute_process(COMMAND ${NTPKIT_DPKG_QUERY} -S "${ntpkit_libcrypto}"
                  OUTPUT_VARIABLE ntpkit_owner RESULT_VARIABLE ntpkit_rc ERROR_QUIET)
  if(ntpkit_rc EQUAL 0 AND ntpkit_owner MATCHES "^([^:, ]+)(:[a-z0-9]+)?: ")
    set(ntpkit_crypto_package ${CMAKE_MATCH_1})
    execute_process(COMMAND ${NTPKIT_DPKG_QUERY} --control-show ${ntpkit_crypto_package} shlibs
                    OUTPUT_VARIABLE ntpkit_shlibs ERROR_QUIET)
    if(ntpkit_shlibs MATCHES "(^|\n)libcrypto [0-9]+ ([^\n]+)")
      set(CPACK_DEBIAN_PACKAGE_DEPENDS "${CMAKE_MATCH_2}")
    else()
      set(CPACK_DEBIAN_PACKAGE_DEPENDS "${ntpkit_crypto_package}")
    endif()
  endif()
endif()
# libntpkit.so.0 is in this package: dpkg-shlibdeps finds it in the staging tree, and the
# package gets a shlibs file and the ldconfig trigger.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
# ldconfig runs from a dpkg trigger (CPack also writes postinst/postrm calling it; see
# packaging/deb/lintian-overrides).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/deb/triggers)
# Standard permissions on directories (lintian: non-standard-dir-perm).
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
# One package from the runtime component; headers and the CMake package (development) and
# the programs that only exist as stubs so far (preview) stay out.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL runtime)
set(CPACK_STRIP_FILES ON)
include(CPack)
