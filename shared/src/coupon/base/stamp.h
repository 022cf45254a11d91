#pragma once

// Who and when, as the tools print them: the console, couponctl and the drop
// report name the operator and the time the same way.

#include <QDateTime>
#include <QString>

namespace coupon {

// The operator's login name: $USER, else $LOGNAME, else the account of the
// effective uid (a service or a container sets neither); empty when none.
QString loginName();

// `loginName()@host`: who ran something, and where.
QString operatorAtHost();

// UTC, ISO 8601 with milliseconds; "-" for an invalid time.
QString timeText(const QDateTime &t);

} // namespace coupon
