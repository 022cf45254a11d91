#include "coupon/service/failed_events.h"

#include "coupon/base/validation.h"
#include "coupon/protocol/codec.h"
#include "coupon/service/apply_service.h"

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

constexpr qsizetype kMaxBy = 200;          // failed_event.resolved_by, last_retry_by
constexpr qsizetype kMaxResolution = 1000; // failed_event.resolution, last_retry_outcome

// A name or reason for the row: printable, one line, within its column.
Status checkText(const QString &what, const QString &text, qsizetype max)
{
    if (text.trimmed().isEmpty())
        return Error(Errc::CampaignInvalid, u"%1 is required"_s.arg(what));
    if (text.size() > max)
        return Error(Errc::CampaignInvalid,
                     u"%1 is %2 characters long; at most %3"_s.arg(what).arg(text.size()).arg(max));
    for (const QChar c : text) {
        if (c.category() == QChar::Other_Control)
            return Error(Errc::CampaignInvalid, u"%1 must be one line of printable text"_s.arg(what));
    }
    return Ok{};
}

std::optional<QByteArrayView> nullable(const QByteArray &bytes)
{
    return bytes.isNull() ? std::nullopt : std::optional<QByteArrayView>(bytes);
}

QString describe(const RetryTarget &t)
{
    return u"%1/%2 (%3)"_s.arg(t.campaign).arg(t.userId).arg(t.corrected ? u"corrected"_s : u"original bytes"_s);
}

QString answerText(const ApplyResult &r)
{
    QString text = toString(r.status);
    if (r.status == ApplyOutcome::Accepted)
        text += u" ticket %1 partition %2 offset %3"_s.arg(r.ticket).arg(r.partition).arg(r.offset);
    if (!r.detail.isEmpty())
        text += u" ("_s + r.detail + u')';
    return text;
}

} // namespace

Result<RetryTarget> originalTarget(const FailedEventRow &row)
{
    if (row.campaign.isEmpty())
        return Error(Errc::FailedEventRetry,
                     u"failed event %1 (%2) names no campaign readably: retry it with a corrected campaign and user"_s
                         .arg(row.id)
                         .arg(row.reason));
    const QByteArray campaign = row.campaign.toLatin1();
    const codec::Decoded decoded = codec::decodeFields(nullable(row.key), nullable(row.value), QByteArrayView(campaign),
                                                       std::nullopt, std::nullopt, std::nullopt, true, QString());
    if (!decoded.message)
        return Error(Errc::FailedEventRetry,
                     u"the bytes of failed event %1 do not name a user (%2): retry it with a corrected campaign and "
                     "user"_s.arg(row.id)
                         .arg(codec::toString(*decoded.error)));
    return RetryTarget{decoded.message->campaign, decoded.message->userId, false};
}

QString correctionConfirmation(qint64 id, const QString &campaign, qint64 userId)
{
    return u"retry %1 as %2/%3"_s.arg(id).arg(campaign).arg(userId);
}

QString safeBytes(const QByteArray &bytes)
{
    if (bytes.isNull())
        return u"(null)"_s;
    QString printable;
    for (const char c : bytes)
        printable += (c >= 0x20 && c < 0x7f) ? QChar::fromLatin1(c) : u'.';
    return QString::fromLatin1(bytes.toHex(' ')) + u" |"_s + printable + u'|';
}

FailedEventOps::FailedEventOps(CouponStore &store, Apply apply)
    : m_store(store)
    , m_apply(std::move(apply))
{ }

Result<FailedEventRow> FailedEventOps::get(qint64 id)
{
    Result<std::optional<FailedEventRow>> row = m_store.failedEvent(id);
    if (!row)
        return row.error();
    if (!*row)
        return Error(Errc::FailedEventUnknown, u"no failed event %1"_s.arg(id));
    return **row;
}

Result<FailedEventRow> FailedEventOps::unresolved(qint64 id)
{
    Result<FailedEventRow> row = get(id);
    if (row && row->resolved())
        return Error(Errc::FailedEventResolved,
                     u"failed event %1 was resolved already (by %2 at %3: %4)"_s.arg(id).arg(
                         row->resolvedBy, row->resolvedAt.toString(Qt::ISODateWithMs), row->resolution));
    return row;
}

Result<RetryReport> FailedEventOps::retry(qint64 id, const QString &by, const std::optional<RetryTarget> &correction,
                                          const QString &confirmation)
{
    if (Status st = checkText(u"who retries"_s, by, kMaxBy); !st)
        return st.error();
    Result<FailedEventRow> row = unresolved(id);
    if (!row)
        return row.error();
    RetryReport report;
    if (correction) {
        if (!isValidCampaignId(correction->campaign))
            return Error(Errc::CampaignInvalid,
                         u"campaign \"%1\" must match %2"_s.arg(correction->campaign, campaignIdPattern()));
        if (correction->userId < 1)
            return Error(Errc::BadUserId,
                         u"user %1: must be an integer in 1..9223372036854775807"_s.arg(correction->userId));
        const QString expected = correctionConfirmation(id, correction->campaign, correction->userId);
        if (confirmation != expected)
            return Error(Errc::FailedEventRetry,
                         u"a corrected retry applies for another campaign or user than the bytes name: confirm it by "
                         "typing \"%1\""_s.arg(expected));
        report.target = *correction;
        report.target.corrected = true;
    } else {
        Result<RetryTarget> original = originalTarget(*row);
        if (!original)
            return original.error();
        report.target = *original;
    }

    report.apply = m_apply(report.target.campaign, report.target.userId);
    report.resolved = report.apply.status == ApplyOutcome::Accepted;
    report.outcome = answerText(report.apply) + u" as "_s + describe(report.target);
    const QString resolution = u"retried: "_s + report.outcome;
    if (Status st = m_store.recordRetry(id, by, report.outcome.left(kMaxResolution), report.resolved,
                                        resolution.left(kMaxResolution));
        !st) {
        // The apply stands either way: say what it answered, not only what failed after.
        Error e = st.error();
        e.message = u"the retry answered %1, but recording it on failed event %2 failed: %3"_s.arg(report.outcome)
                        .arg(id)
                        .arg(e.message);
        return e;
    }
    return report;
}

Status FailedEventOps::resolve(qint64 id, const QString &by, const QString &reason)
{
    if (Status st = checkText(u"who resolves"_s, by, kMaxBy); !st)
        return st;
    if (Status st = checkText(u"the reason"_s, reason, kMaxResolution); !st)
        return st;
    if (Result<FailedEventRow> row = unresolved(id); !row)
        return row.error();
    return m_store.resolveFailedEvent(id, by, reason);
}

FailedEventOps::Apply applyThrough(const Settings &settings, std::unique_ptr<ApplyService> &service)
{
    return [&settings, &service](const QString &campaign, qint64 userId) -> ApplyResult {
        if (!service) {
            Result<std::unique_ptr<ApplyService>> made = ApplyService::create(settings, {1});
            if (!made) {
                ApplyResult r;
                r.status = ApplyOutcome::Unavailable;
                r.detail = made.error().message;
                return r;
            }
            service = std::move(made).value();
        }
        return service->applyAndWait(campaign, userId);
    };
}

} // namespace coupon
