#pragma once

#include <QByteArray>

#include <charconv>

namespace coupon {

// Appends `number` in decimal, with no allocation but the append: for the
// hot answers (the HTTP status line and Content-Length, the gateway's 202
// body), where QByteArray::number's temporary showed up.
inline void appendNumber(QByteArray &out, qint64 number)
{
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, number);
    out.append(digits, result.ptr - digits);
}

} // namespace coupon
