#include "coupon/protocol/apply_outcome.h"

#include "coupon/base/validation.h"

using namespace Qt::StringLiterals;

namespace coupon {

QString toString(ApplyOutcome status)
{
    switch (status) {
    case ApplyOutcome::Accepted: return u"accepted"_s;
    case ApplyOutcome::Duplicate: return u"duplicate"_s;
    case ApplyOutcome::SoldOut: return u"sold_out"_s;
    case ApplyOutcome::Closed: return u"closed"_s;
    case ApplyOutcome::NotLoaded: return u"not_loaded"_s;
    case ApplyOutcome::Invalid: return u"invalid"_s;
    case ApplyOutcome::Unavailable: return u"unavailable"_s;
    case ApplyOutcome::Uncertain: return u"uncertain"_s;
    case ApplyOutcome::Reconciling: return u"reconciling"_s;
    }
    return u"unknown"_s;
}

bool validateApply(const QString &campaign, qint64 userId, ApplyResult &result)
{
    if (!isValidCampaignId(campaign)) {
        result.status = ApplyOutcome::Invalid;
        result.detail = u"campaign id must match "_s + campaignIdPattern();
        return false;
    }
    if (userId <= 0) {
        result.status = ApplyOutcome::Invalid;
        result.detail = u"user id must be an integer in 1..9223372036854775807"_s;
        return false;
    }
    return true;
}

CouponMessage acceptedMessage(const QString &campaign, qint64 userId, const ApplyResult &result)
{
    CouponMessage message;
    message.campaign = campaign;
    message.userId = userId;
    message.ticket = result.ticket;
    message.requestId = result.requestId;
    message.appliedAtMs = result.appliedAtMs;
    return message;
}

} // namespace coupon
