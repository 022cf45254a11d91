#include "coupon/protocol/codec.h"

#include "coupon/base/validation.h"

#include <QtEndian>

using namespace Qt::StringLiterals;

namespace coupon::codec {

QByteArray encodeKey(qint64 userId)
{
    return QByteArray::number(userId);
}

QByteArray encodeValue(qint64 userId)
{
    QByteArray bytes(8, Qt::Uninitialized);
    qToBigEndian<qint64>(userId, bytes.data());
    return bytes;
}

QByteArray encodeNumber(qint64 number)
{
    return QByteArray::number(number);
}

QString toString(DecodeError error)
{
    switch (error) {
    case DecodeError::ValueSize: return u"value_size"_s;
    case DecodeError::UserIdRange: return u"user_id_range"_s;
    case DecodeError::KeyMismatch: return u"key_mismatch"_s;
    case DecodeError::BadCampaign: return u"bad_campaign"_s;
    case DecodeError::BadHeader: return u"bad_header"_s;
    }
    return u"unknown"_s;
}

namespace {

// Headers carry plain decimal; 0 is allowed (an unknown time or ticket).
std::optional<qint64> parseHeaderNumber(std::optional<QByteArrayView> text)
{
    if (!text)
        return std::nullopt;
    if (*text == "0")
        return 0;
    return parseUserId(*text);
}

Decoded failed(DecodeError error)
{
    return {std::nullopt, error};
}

} // namespace

Decoded decodeFields(std::optional<QByteArrayView> key, std::optional<QByteArrayView> value,
                     std::optional<QByteArrayView> campaign, std::optional<QByteArrayView> ticket,
                     std::optional<QByteArrayView> requestId, std::optional<QByteArrayView> appliedAt,
                     bool campaignPresent, const QString &defaultCampaign)
{
    if (!value || value->size() != 8)
        return failed(DecodeError::ValueSize);
    CouponMessage message;
    message.userId = qFromBigEndian<qint64>(value->data());
    if (message.userId <= 0)
        return failed(DecodeError::UserIdRange);
    // The tutorial's producer sends no key; a key that is there must agree.
    if (key && !key->isEmpty() && parseUserId(*key) != message.userId)
        return failed(DecodeError::KeyMismatch);

    if (campaignPresent) {
        if (!campaign || !isValidCampaignId(*campaign))
            return failed(DecodeError::BadCampaign);
        message.campaign = QString::fromLatin1(campaign->data(), campaign->size());
    } else {
        message.campaign = defaultCampaign;
    }
    if (ticket) {
        const auto number = parseHeaderNumber(ticket);
        if (!number)
            return failed(DecodeError::BadHeader);
        message.ticket = *number;
    }
    if (appliedAt) {
        const auto number = parseHeaderNumber(appliedAt);
        if (!number)
            return failed(DecodeError::BadHeader);
        message.appliedAtMs = *number;
    }
    if (requestId)
        message.requestId = requestId->first(std::min<qsizetype>(requestId->size(), 64)).toByteArray();
    return {std::move(message), std::nullopt};
}

} // namespace coupon::codec
