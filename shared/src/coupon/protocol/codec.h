#pragma once

// The wire format on topic coupon_create (docs/DESIGN.md):
//   key    the user id as decimal text (same user, same partition)
//   value  the user id as an 8-byte big-endian signed integer, the bytes
//          Kafka's LongSerializer writes
//   headers campaign, ticket, request-id, applied-at (ms since the epoch);
//          a message without `campaign` belongs to the default campaign.

#include "coupon/base/result.h"

#include <QByteArray>
#include <QString>

#include <cstdint>
#include <optional>

namespace coupon {

struct CouponMessage
{
    QString campaign; // decoded: the header, or the default campaign when there is none
    qint64 userId = 0;
    qint64 ticket = 0; // 0: absent
    QByteArray requestId;
    qint64 appliedAtMs = 0; // 0: absent
};

namespace codec {

inline constexpr const char *kHeaderCampaign = "campaign";
inline constexpr const char *kHeaderTicket = "ticket";
inline constexpr const char *kHeaderRequestId = "request-id";
inline constexpr const char *kHeaderAppliedAt = "applied-at";
// Not an apply: a reconciler's barrier (kafka.h, appendBarriers); the worker
// commits past it and records nothing.
inline constexpr const char *kHeaderBarrier = "coupon-barrier";

QByteArray encodeKey(qint64 userId);
QByteArray encodeValue(qint64 userId);
// Header values are decimal text (campaign: the id itself).
QByteArray encodeNumber(qint64 number);

// Why a message is poison; the text form is what failed_event.reason stores.
enum class DecodeError {
    ValueSize,   // value is not exactly 8 bytes (or missing)
    UserIdRange, // value decodes to 0 or a negative number
    KeyMismatch, // key present but not the decimal form of the value
    BadCampaign, // campaign header is not a valid campaign id
    BadHeader,   // ticket / applied-at header is not a decimal number
};
QString toString(DecodeError error);

struct Decoded
{
    std::optional<CouponMessage> message;
    std::optional<DecodeError> error;
    bool barrier = false; // a barrier record (kHeaderBarrier): neither an apply nor poison
};

struct RawHeader
{
    QByteArrayView name;
    std::optional<QByteArrayView> value; // nullopt: a header with a null value
};

// Decodes one record. `headers` are the record's headers in order; the last
// one of a name wins (Kafka allows repeats). `defaultCampaign` fills in for a
// missing campaign header.
template <typename HeaderRange>
Decoded decode(std::optional<QByteArrayView> key, std::optional<QByteArrayView> value, const HeaderRange &headers,
               const QString &defaultCampaign);

// Non-template core of decode().
Decoded decodeFields(std::optional<QByteArrayView> key, std::optional<QByteArrayView> value,
                     std::optional<QByteArrayView> campaign, std::optional<QByteArrayView> ticket,
                     std::optional<QByteArrayView> requestId, std::optional<QByteArrayView> appliedAt,
                     bool campaignPresent, const QString &defaultCampaign);

template <typename HeaderRange>
Decoded decode(std::optional<QByteArrayView> key, std::optional<QByteArrayView> value, const HeaderRange &headers,
               const QString &defaultCampaign)
{
    std::optional<QByteArrayView> campaign, ticket, requestId, appliedAt;
    bool campaignPresent = false;
    for (const RawHeader &h : headers) {
        if (h.name == kHeaderBarrier) {
            Decoded barrier;
            barrier.barrier = true;
            return barrier;
        }
        if (h.name == kHeaderCampaign) {
            campaign = h.value;
            campaignPresent = true;
        } else if (h.name == kHeaderTicket) {
            ticket = h.value;
        } else if (h.name == kHeaderRequestId) {
            requestId = h.value;
        } else if (h.name == kHeaderAppliedAt) {
            appliedAt = h.value;
        }
    }
    return decodeFields(key, value, campaign, ticket, requestId, appliedAt, campaignPresent, defaultCampaign);
}

} // namespace codec
} // namespace coupon
