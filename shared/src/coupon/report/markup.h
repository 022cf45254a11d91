#pragma once

#include <QString>

namespace coupon {

// Text for HTML, SVG and XML alike: & < > " escaped, and the control
// characters XML 1.0 forbids replaced by U+FFFD, so the report stays
// well-formed whatever a campaign name or a failed event carries.
QString htmlEscape(const QString &text);

// A number as the report prints it: '.' whatever the locale, `decimals`
// after it, no exponent.
QString fixedNumber(double value, int decimals);

} // namespace coupon
