#pragma once

#include "coupon/base/result.h"
#include "coupon/mysql/store.h"
#include "coupon/protocol/apply_outcome.h"

#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace coupon {

// Where a retry of a failed event applies: the campaign and user its
// original bytes name, or an operator's correction.
struct RetryTarget
{
    QString campaign;
    qint64 userId = 0;
    bool corrected = false;
};

// The campaign and user the original bytes name, read by the wire codec
// (codec.h): the value a valid user id, the key (when there is one) its
// decimal form, and a campaign recorded with the row (a readable campaign
// header). Errc::FailedEventRetry, saying what is missing, when they do not
// name both unambiguously: such a row needs a corrected retry.
Result<RetryTarget> originalTarget(const FailedEventRow &row);

// What an operator types to confirm a corrected retry: "retry 17 as spring/42".
QString correctionConfirmation(qint64 id, const QString &campaign, qint64 userId);

// Bytes shown safely on one line: hex, then the printable ASCII with every
// other byte as '.', e.g. "34 32 ff |42.|" ("(null)" for SQL NULL).
QString safeBytes(const QByteArray &bytes);

struct RetryReport
{
    RetryTarget target;
    ApplyResult apply;
    bool resolved = false; // the apply was accepted and the row now says so
    QString outcome;       // what was recorded on the row
};

// The failed-event workflow of couponctl and the console: retry through the
// normal apply protocol (so the limit and one-per-user hold), or resolve by
// hand. `apply` is the caller's apply (ApplyService::applyAndWait: the Redis
// script, then the topic). Uses the caller's thread and store.
class FailedEventOps
{
public:
    using Apply = std::function<ApplyResult(const QString &campaign, qint64 userId)>;

    FailedEventOps(CouponStore &store, Apply apply);

    Result<FailedEventRow> get(qint64 id);
    // Applies the original bytes' campaign and user, or `correction` when
    // `confirmation` is exactly correctionConfirmation() of it. Records who,
    // when and what it answered on the row; marks it resolved only when the
    // apply was accepted. An answer other than accepted is returned, not an
    // error (report.apply.status says which).
    Result<RetryReport> retry(qint64 id, const QString &by, const std::optional<RetryTarget> &correction = std::nullopt,
                              const QString &confirmation = {});
    // Marks it resolved by `by` because `reason`, with no apply.
    Status resolve(qint64 id, const QString &by, const QString &reason);

private:
    Result<FailedEventRow> unresolved(qint64 id);

    CouponStore &m_store;
    Apply m_apply;
};

class ApplyService;

// The retry's apply for couponctl and the console: ApplyService::applyAndWait
// on `service`, made from `settings` on first use; one that cannot be made
// answers Unavailable with the reason.
FailedEventOps::Apply applyThrough(const Settings &settings, std::unique_ptr<ApplyService> &service);

} // namespace coupon
