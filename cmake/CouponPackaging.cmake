# Debian packages (scripts/package builds them; scripts/check-package, a
# ctest, installs and purges them):
#   coupon-server   coupon-worker, coupon-gateway, couponctl; every systemd
#                   unit in resources/systemd (ExecStart pointed at this
#                   prefix, run as the system user `coupon`); settings
#                   examples in /etc/coupon (mode 600, owned by coupon);
#                   the user (sysusers.d, maintainer-script fallback) and
#                   its state directory (tmpfiles.d)
#   coupon-console  the console, its .desktop file and icon (not in a
#                   headless build, COUPON_BUILD_CONSOLE=OFF)
# Depends are computed by dpkg-shlibdeps from the binaries.
include(GNUInstallDirs)

set(COUPON_PACKAGING ${PROJECT_SOURCE_DIR}/resources/packaging)

# The units as the package runs them. The source units name /usr/local/bin
# (a hand install) and DynamicUser; installed by the package they run
# ${CMAKE_INSTALL_PREFIX}/bin as `coupon`, who owns /etc/coupon/*.ini.
file(GLOB COUPON_UNITS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/resources/systemd/*.service)
foreach(unit IN LISTS COUPON_UNITS)
  get_filename_component(name ${unit} NAME)
  file(READ ${unit} text)
  string(REPLACE "/usr/local/bin/" "${CMAKE_INSTALL_FULL_BINDIR}/" text "${text}")
  string(REGEX REPLACE "\nDynamicUser=[^\n]*" "" text "${text}")
  string(REPLACE "\n[Service]\n" "\n[Service]\nUser=coupon\nGroup=coupon\n" text "${text}")
  if(NOT text MATCHES "\nUser=coupon\n")
    message(FATAL_ERROR "${unit}: no [Service] section to run as the coupon user")
  endif()
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/packaging/systemd/${name} CONTENT "${text}")
  install(FILES ${CMAKE_BINARY_DIR}/packaging/systemd/${name}
          DESTINATION lib/systemd/system COMPONENT server)
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${COUPON_UNITS})

install(FILES ${COUPON_PACKAGING}/coupon.sysusers DESTINATION lib/sysusers.d
        RENAME coupon.conf COMPONENT server)
install(FILES ${COUPON_PACKAGING}/coupon.tmpfiles DESTINATION lib/tmpfiles.d
        RENAME coupon.conf COMPONENT server)
file(GLOB COUPON_CONFIG_EXAMPLES ${COUPON_PACKAGING}/config/*.ini)
set(COUPON_CONFFILES "")
foreach(ini IN LISTS COUPON_CONFIG_EXAMPLES)
  get_filename_component(name ${ini} NAME)
  string(APPEND COUPON_CONFFILES "/etc/coupon/${name}\n")
endforeach()
# Passwords go in here: owner only (postinst gives them to coupon).
install(FILES ${COUPON_CONFIG_EXAMPLES} DESTINATION /etc/coupon PERMISSIONS OWNER_READ OWNER_WRITE COMPONENT server)
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/packaging/conffiles CONTENT "${COUPON_CONFFILES}")

if(COUPON_BUILD_CONSOLE)
  install(FILES ${COUPON_PACKAGING}/coupon-console.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications
          COMPONENT console)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/app.png
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/64x64/apps RENAME coupon-console.png COMPONENT console)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME coupon-system)
set(CPACK_PACKAGE_VENDOR "Coupon System")
set(CPACK_PACKAGE_CONTACT "Coupon System maintainers <coupon@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server)
if(COUPON_BUILD_CONSOLE)
  list(APPEND CPACK_COMPONENTS_ALL console)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME coupon-server)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
    "First-come-first-served coupon issuing: coupon-worker, coupon-gateway, couponctl and their systemd units")
# useradd/userdel (passwd) for the maintainer scripts' fallback; Qt's MySQL
# driver is a plugin, which dpkg-shlibdeps cannot see.
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "passwd, libqt6sql6-mysql")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    ${COUPON_PACKAGING}/postinst ${COUPON_PACKAGING}/prerm ${COUPON_PACKAGING}/postrm
    ${CMAKE_BINARY_DIR}/packaging/conffiles)

set(CPACK_DEBIAN_CONSOLE_PACKAGE_NAME coupon-console)
set(CPACK_DEBIAN_CONSOLE_PACKAGE_SECTION x11)
# Qt's MySQL driver is a plugin: no binary links it, so shlibdeps cannot see it.
set(CPACK_DEBIAN_CONSOLE_PACKAGE_DEPENDS "libqt6sql6-mysql")
set(CPACK_COMPONENT_CONSOLE_DESCRIPTION "Coupon System operator console (Qt Widgets)")

include(CPack)
