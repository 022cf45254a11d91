#include "coupon/base/validation.h"

#include <limits>

namespace coupon {

namespace {

template <typename Char>
bool validCampaign(const Char *data, qsizetype size)
{
    if (size < 1 || size > 64)
        return false;
    for (qsizetype i = 0; i < size; ++i) {
        const auto c = static_cast<char32_t>(data[i]);
        const bool lowerOrDigit = (c >= U'a' && c <= U'z') || (c >= U'0' && c <= U'9');
        if (!lowerOrDigit && (i == 0 || (c != U'_' && c != U'-')))
            return false;
    }
    return true;
}

template <typename Char>
std::optional<qint64> parseDecimal(const Char *data, qsizetype size)
{
    // 9223372036854775807 has 19 digits.
    if (size < 1 || size > 19 || data[0] == Char('0'))
        return std::nullopt;
    quint64 value = 0;
    for (qsizetype i = 0; i < size; ++i) {
        const auto c = static_cast<char32_t>(data[i]);
        if (c < U'0' || c > U'9')
            return std::nullopt;
        value = value * 10 + (c - U'0'); // cannot wrap: at most 19 digits < 2^64
    }
    if (value > quint64(std::numeric_limits<qint64>::max()))
        return std::nullopt;
    return qint64(value);
}

} // namespace

QString campaignIdPattern()
{
    return QStringLiteral("[a-z0-9][a-z0-9_-]{0,63}");
}

bool isValidCampaignId(QStringView id)
{
    return validCampaign(id.utf16(), id.size());
}
bool isValidCampaignId(QByteArrayView id)
{
    return validCampaign(id.data(), id.size());
}

std::optional<qint64> parseUserId(QByteArrayView text)
{
    return parseDecimal(text.data(), text.size());
}
std::optional<qint64> parseUserId(QStringView text)
{
    return parseDecimal(text.utf16(), text.size());
}

} // namespace coupon
