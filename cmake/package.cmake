# The Debian package (issue 17 item 5): `cmake --build BUILD --target deb` builds tlsprobe,
# its man pages (help2man, from --help) and BUILD/tlsprobe_VERSION_ARCH.deb with CPack.
# Nothing here is part of the default build: `tools/bootstrap.sh run` (target tlsprobe) and
# `all` never run help2man or cpack. Without help2man or dpkg-deb the `deb` target is absent
# (a missing optional tool never fails the configure, DESIGN section 8).
include(GNUInstallDirs)
find_program(HELP2MAN help2man)
find_program(DPKG_DEB dpkg-deb)
find_program(DPKG dpkg)

set(deploy ${PROJECT_SOURCE_DIR}/deploy)
set(man_dir ${PROJECT_BINARY_DIR}/man)
set(doc_dir ${PROJECT_BINARY_DIR}/doc)

# Installed files (paths relative to /usr unless absolute).
install(TARGETS tlsprobe RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${deploy}/systemd/tlsprobe.service DESTINATION lib/systemd/system)
# An absolute path under /etc: a Debian conffile (a local edit survives upgrades).
install(FILES ${deploy}/debian/tlsprobe.toml DESTINATION /etc/tlsprobe)
install(FILES ${deploy}/prometheus/tlsprobe-rules.yml ${deploy}/prometheus/tlsprobe-rules.test.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tlsprobe/prometheus)
install(DIRECTORY ${deploy}/elasticsearch/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tlsprobe/elasticsearch
        OPTIONAL)
install(DIRECTORY ${deploy}/filebeat/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tlsprobe/filebeat
        OPTIONAL)
install(FILES ${deploy}/debian/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/tlsprobe)
install(FILES ${PROJECT_SOURCE_DIR}/config/tlsprobe.example.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/tlsprobe/examples)
install(FILES ${doc_dir}/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/tlsprobe
        OPTIONAL)
install(DIRECTORY ${man_dir}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 OPTIONAL
        FILES_MATCHING PATTERN "*.1.gz")

if(HELP2MAN AND DPKG_DEB AND DPKG)
  # One page for tlsprobe and one per command, each from that command's --help.
  set(man_pages)
  set(commands probe proxy watch ca logs)
  add_custom_command(
    OUTPUT ${man_dir}/tlsprobe.1.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir}
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1
            --name=intercepting,\ TLS-probing\ HTTP\ proxy
            --version-string=${PROJECT_VERSION} --output=${man_dir}/tlsprobe.1 $<TARGET_FILE:tlsprobe>
    COMMAND gzip -9nf ${man_dir}/tlsprobe.1
    DEPENDS tlsprobe VERBATIM)
  list(APPEND man_pages ${man_dir}/tlsprobe.1.gz)
  foreach(cmd ${commands})
    # help2man names the page after the program it runs: a tiny tlsprobe-CMD wrapper makes
    # the page "tlsprobe-CMD(1)" (NAME and whatis entry), matching `man tlsprobe-proxy`.
    set(wrapper ${PROJECT_BINARY_DIR}/man-wrappers/tlsprobe-${cmd})
    file(GENERATE OUTPUT ${wrapper}
         CONTENT "#!/bin/sh\nexec '$<TARGET_FILE:tlsprobe>' ${cmd} \"$@\"\n"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                          WORLD_READ WORLD_EXECUTE)
    add_custom_command(
      OUTPUT ${man_dir}/tlsprobe-${cmd}.1.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir}
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1
              --version-string=${PROJECT_VERSION} --name=tlsprobe\ ${cmd}
              --output=${man_dir}/tlsprobe-${cmd}.1 ${wrapper}
      COMMAND gzip -9nf ${man_dir}/tlsprobe-${cmd}.1
      DEPENDS tlsprobe VERBATIM)
    list(APPEND man_pages ${man_dir}/tlsprobe-${cmd}.1.gz)
  endforeach()
  add_custom_command(
    OUTPUT ${doc_dir}/changelog.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${doc_dir}
    # A native package (no Debian revision in the version): changelog.gz, not changelog.Debian.gz.
    COMMAND sh -c "gzip -9nc '${deploy}/debian/changelog' > '${doc_dir}/changelog.gz'"
    DEPENDS ${deploy}/debian/changelog VERBATIM)

  execute_process(COMMAND ${DPKG} --print-architecture OUTPUT_VARIABLE deb_arch
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(CPACK_GENERATOR DEB)
  set(CPACK_PACKAGE_NAME tlsprobe)
  set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
  set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
  set(CPACK_PACKAGE_CONTACT "tlsprobe maintainers <maintainers@tlsprobe.invalid>")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "intercepting, TLS-probing HTTP proxy")
  # CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY on the synopsis line; this is the rest.
  set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
      "tlsprobe sits between clients and servers, looks at every certificate\nchain that passes, probes the same names the way a browser and a CDN\nwould, and says in plain words what is wrong and how to fix it. Every\nconnection goes into a JSON log in the Elastic Common Schema;\nPrometheus metrics and alert rules are included.")
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${deb_arch})
  set(CPACK_DEBIAN_PACKAGE_SECTION net)
  set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/tlsprobe/tlsprobe")
  set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
  # /etc/tlsprobe/tlsprobe.toml is a conffile: dpkg keeps the administrator's edits.
  set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${deploy}/debian/conffiles)
  set(CPACK_STRIP_FILES ON)
  set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR})
  include(CPack)

  add_custom_target(deb
    COMMAND ${CMAKE_CPACK_COMMAND} -G DEB --config ${PROJECT_BINARY_DIR}/CPackConfig.cmake
    DEPENDS ${man_pages} ${doc_dir}/changelog.gz
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
    COMMENT "Building tlsprobe_${PROJECT_VERSION}_${deb_arch}.deb" VERBATIM)
  add_dependencies(deb tlsprobe)
endif()
