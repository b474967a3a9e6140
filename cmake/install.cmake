# Install rules: `cmake --install build` (or the Debian package, debian/)
# puts vsd where its systemd unit and README say it is.
#
#   sbin/vsd, sbin/vsadm                         the daemon and the CLI
#   <sysconfdir>/vsd/vsd.toml                    the documented config (a conffile in the .deb)
#   <systemd unit dir>/vsd.service               etc/vsd.service, naming the installed vsd
#   share/man/man8/vsd.8, vsadm.8, man5/vsd.toml.5   generated from doc/manpages.txt
#                                                and etc/vsd.toml's comments (doc/mkman.py)
#   share/bash-completion/completions/vsadm      etc/bash_completion/vsadm
#   share/doc/vsd/README.md, examples/*.toml, examples/vsd-dashboard.json
#
# Options:
#   VSD_MANPAGES=ON|OFF       build and install the man pages (needs python3; default: ON if found)
#   VSD_SYSTEMD_UNIT_DIR=DIR  where vsd.service goes (default: for prefix /usr,
#                             pkg-config systemd's systemdsystemunitdir; else
#                             <prefix>/lib/systemd/system)
# Only the targets vsd and vsadm and paths under PROJECT_SOURCE_DIR are used.

include(GNUInstallDirs)

install(TARGETS vsd vsadm RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
# vsadm-save / vsadm-restore: ipvsadm-save / ipvsadm-restore for vsd (sh scripts over vsadm).
install(PROGRAMS ${PROJECT_SOURCE_DIR}/etc/vsadm-save ${PROJECT_SOURCE_DIR}/etc/vsadm-restore
        DESTINATION ${CMAKE_INSTALL_SBINDIR})

# keepalived's notify command for a director pair (`vsd ha keepalived` names it).
install(PROGRAMS ${PROJECT_SOURCE_DIR}/etc/vsd-ha-notify DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/vsd)

# /etc/vsd/vsd.toml for prefix /usr (GNUInstallDirs maps it to /etc), else <prefix>/etc/vsd.
install(FILES ${PROJECT_SOURCE_DIR}/etc/vsd.toml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/vsd)

# The unit, with the paths of this installation (identical to etc/vsd.service
# for prefix /usr and sysconfdir /etc).
if(NOT DEFINED VSD_SYSTEMD_UNIT_DIR)
  set(_vsd_unit_dir "")
  # systemd's own directory only for a system install (prefix /usr); a
  # /usr/local (or other) install keeps the unit under its prefix, which
  # systemd also reads for /usr/local.
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    pkg_get_variable(_vsd_unit_dir systemd systemdsystemunitdir)
  endif()
  if(NOT _vsd_unit_dir)
    set(_vsd_unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  endif()
  set(VSD_SYSTEMD_UNIT_DIR "${_vsd_unit_dir}" CACHE PATH "where vsd.service is installed")
endif()
file(READ ${PROJECT_SOURCE_DIR}/etc/vsd.service _vsd_unit)
string(REPLACE "/usr/sbin/" "${CMAKE_INSTALL_FULL_SBINDIR}/" _vsd_unit "${_vsd_unit}")
string(REPLACE "/etc/vsd/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/vsd/" _vsd_unit "${_vsd_unit}")
string(REPLACE "/usr/share/doc/vsd/" "${CMAKE_INSTALL_FULL_DOCDIR}/" _vsd_unit "${_vsd_unit}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/install/vsd.service CONTENT "${_vsd_unit}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/etc/vsd.service)
install(FILES ${PROJECT_BINARY_DIR}/install/vsd.service DESTINATION ${VSD_SYSTEMD_UNIT_DIR})

# Man pages, generated at build time from the one source doc/manpages.txt;
# vsd.toml(5) takes its key reference from etc/vsd.toml's comments.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  option(VSD_MANPAGES "Build and install the man pages" ON)
else()
  option(VSD_MANPAGES "Build and install the man pages" OFF)
  message(STATUS "python3 not found: no man pages")
endif()
if(VSD_MANPAGES)
  set(_vsd_man_dir ${PROJECT_BINARY_DIR}/man)
  set(_vsd_man_pages ${_vsd_man_dir}/vsd.8 ${_vsd_man_dir}/vsadm.8 ${_vsd_man_dir}/vsd.toml.5)
  add_custom_command(
    OUTPUT ${_vsd_man_pages}
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/doc/mkman.py
            --source ${PROJECT_SOURCE_DIR}/doc/manpages.txt
            --toml ${PROJECT_SOURCE_DIR}/etc/vsd.toml
            --version ${PROJECT_VERSION}
            --outdir ${_vsd_man_dir}
            --vsd $<TARGET_FILE:vsd> --vsadm $<TARGET_FILE:vsadm>
    DEPENDS ${PROJECT_SOURCE_DIR}/doc/mkman.py ${PROJECT_SOURCE_DIR}/doc/manpages.txt
            ${PROJECT_SOURCE_DIR}/etc/vsd.toml vsd vsadm
    COMMENT "Generating man pages vsd(8), vsadm(8), vsd.toml(5)"
    VERBATIM)
  add_custom_target(vsd_manpages ALL DEPENDS ${_vsd_man_pages})
  install(FILES ${_vsd_man_dir}/vsd.8 ${_vsd_man_dir}/vsadm.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
  install(FILES ${_vsd_man_dir}/vsd.toml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
endif()

install(FILES ${PROJECT_SOURCE_DIR}/etc/bash_completion/vsadm
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
# The same file completes vsadm-save and vsadm-restore; bash-completion loads it by command name.
foreach(_vsd_script vsadm-save vsadm-restore)
  install(FILES ${PROJECT_SOURCE_DIR}/etc/bash_completion/vsadm
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${_vsd_script})
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB _vsd_examples ${PROJECT_SOURCE_DIR}/etc/*.toml)
install(FILES ${_vsd_examples} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# The Grafana dashboard (node_ipvs_* and vsd's own series).
install(FILES ${PROJECT_SOURCE_DIR}/etc/grafana/vsd-dashboard.json DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
