#pragma once

// Answers more than one endpoint gives: the fixed ones serialized once, and
// the shapes of 405 and 503.

#include "coupon/http/server.h"

namespace coupon::gateway {

// Answers whose bytes never change, serialized once.
struct FixedAnswers
{
    http::Response alive;
    http::Response notFound;
    http::Response badCampaignId;
    http::Response unsupportedMediaType;
    http::Response duplicate;
    http::Response soldOut;
    http::Response closed;
};

const FixedAnswers &fixedAnswers();

// 405 with the Allow header; `allow` is the one method the path takes.
http::Response methodNotAllowed(QByteArrayView allow);

// 503 with Retry-After: 1, for a dependency that is down or a gateway that is
// busy or stopping: the client may try again (here or elsewhere) at once.
http::Response unavailable(const QString &code, const QString &message);

// The same for a dependency that failed: the public answer says which one
// in words of its own and names no address, topic or library text; the
// detail goes to the log (one line per code per second at most).
http::Response dependencyDown(const QString &code, const QString &detail);

} // namespace coupon::gateway
