#pragma once

#include <QByteArrayView>
#include <QString>

#include <optional>

namespace coupon {

// Campaign ids: [a-z0-9][a-z0-9_-]{0,63}. They appear in Redis keys and,
// after this check, as literals in generated SQL, so nothing else may pass.
bool isValidCampaignId(QStringView id);
// "[a-z0-9][a-z0-9_-]{0,63}", for the messages that refuse an id.
QString campaignIdPattern();
bool isValidCampaignId(QByteArrayView id);

// A user id is an integer in 1..2^63-1, written in plain decimal: no sign,
// no spaces, no leading zeros, no exponent.
std::optional<qint64> parseUserId(QByteArrayView text);
std::optional<qint64> parseUserId(QStringView text);

} // namespace coupon
