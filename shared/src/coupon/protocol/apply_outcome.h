#pragma once

// What an apply can come to, shared by every service that runs the protocol
// and by everything that shows its answers.

#include "coupon/protocol/codec.h"

#include <QByteArray>
#include <QString>

#include <cstdint>
#include <functional>

namespace coupon {

enum class ApplyOutcome {
    Accepted,    // durable in Kafka: a coupon will exist once the worker drains
    Duplicate,   // the user already holds or reserved one
    SoldOut,     // the limit is reached
    Closed,      // closed, or outside its window
    NotLoaded,   // no such campaign in Redis (unknown, or Redis lost it: `rebuild`)
    Invalid,     // bad campaign id or user id
    Unavailable, // Redis or Kafka could not take it; nothing is reserved
    Uncertain,   // Kafka or Redis may or may not have it; a reservation stays pending and is settled
    Reconciling, // Redis may have lost acknowledged writes: the campaign is being rebuilt from the record
};
inline constexpr int kApplyOutcomeCount = 9;
QString toString(ApplyOutcome status);

struct ApplyResult
{
    ApplyOutcome status = ApplyOutcome::Unavailable;
    qint64 ticket = 0;
    int32_t partition = -1;
    int64_t offset = -1;
    qint64 appliedAtMs = 0;
    QByteArray requestId;
    QString detail; // for Unavailable / Uncertain / Invalid: why
    // The Redis instance (run_id) whose script decided; a release names it,
    // so it never undoes anything on a Redis that replaced that one.
    QByteArray instance;
};
using ApplyCallback = std::function<void(const ApplyResult &)>;

// Shared by the blocking and the event-loop services: the same checks.
// Returns false (and fills `result` as Invalid) when the input is refused.
bool validateApply(const QString &campaign, qint64 userId, ApplyResult &result);
// The message the apply produces for an accepted reservation.
CouponMessage acceptedMessage(const QString &campaign, qint64 userId, const ApplyResult &result);

} // namespace coupon
