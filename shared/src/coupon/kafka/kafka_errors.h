#pragma once

// The one place where librdkafka's error codes become coupon::Error values
// (redis-plus-plus errors.cpp, modern-cpp-kafka Error.h); each client layer
// has its own such file, so nothing above it sees the C library's types.

#include "coupon/base/result.h"

#include <librdkafka/rdkafka.h>

namespace coupon::errors {

// Codes: "kafka.<librdkafka error name>", e.g. "kafka._MSG_TIMED_OUT".
Error fromKafka(rd_kafka_resp_err_t err, const QString &what = {});
Error fromKafka(const rd_kafka_error_t *error, const QString &what = {});

} // namespace coupon::errors
