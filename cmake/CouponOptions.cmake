# One INTERFACE target carries the language level, warnings and Qt hygiene
# defines; every target of the project links it (qBittorrent's CommonConfig).
add_library(coupon_options INTERFACE)
add_library(Coupon::options ALIAS coupon_options)

target_compile_features(coupon_options INTERFACE cxx_std_20)
set(CMAKE_CXX_EXTENSIONS OFF)

target_compile_options(coupon_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)

target_compile_definitions(coupon_options INTERFACE
  QT_NO_CAST_FROM_ASCII
  QT_NO_CAST_TO_ASCII
  QT_NO_CAST_FROM_BYTEARRAY
  QT_NO_URL_CAST_FROM_STRING
  QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
  QT_NO_FOREACH
  QT_USE_QSTRINGBUILDER
  QT_DISABLE_DEPRECATED_BEFORE=0x060400)

if(COUPON_SANITIZE)
  if(NOT COUPON_SANITIZE MATCHES "^(address,undefined|address|undefined|thread)$")
    message(FATAL_ERROR "COUPON_SANITIZE='${COUPON_SANITIZE}': use 'address,undefined' or 'thread'")
  endif()
  target_compile_options(coupon_options INTERFACE
    -fsanitize=${COUPON_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(coupon_options INTERFACE -fsanitize=${COUPON_SANITIZE})
endif()
