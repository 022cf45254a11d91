#pragma once

#include "coupon/base/result.h"

#include <QByteArrayView>

#include <optional>

namespace coupon {

// Reads the body of POST /api/v1/campaigns/{id}/applications: a JSON object
// whose member "userId" is an integer in 1..2^63-1. The number is read from
// its JSON text, not through a double, so 2^63-1 is exact and 1.0, 1e3,
// -1, 0, "1" are refused. Other members are ignored (forward compatible); a
// repeated userId is refused. The whole body must be one valid JSON value.
// Errors: "bad_json" (with the offset), "bad_user_id" (with the reason).
Result<qint64> parseApplyBody(QByteArrayView body);
// The same, with userId optional (nullopt when the object has none): with
// gateway.auth = jwt the token names the user and the body need not.
Result<std::optional<qint64>> parseApplyBodyUser(QByteArrayView body);

} // namespace coupon
