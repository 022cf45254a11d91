#include "coupon/protocol/apply_core.h"

#include <QRandomGenerator>

using namespace Qt::StringLiterals;

namespace coupon {

bool readApplyReply(const Reply *r, ApplyResult &result)
{
    if (!r || r->type != Reply::Type::Array || r->elements.size() < 3) {
        result.status = ApplyOutcome::Unavailable;
        result.detail = u"unexpected reply from the apply script"_s;
        return false;
    }
    const QByteArray verdict = r->elements[0].string();
    result.ticket = r->elements[1].toInteger().value_or(0);
    result.appliedAtMs = r->elements[2].toInteger().value_or(0);
    if (verdict == "accepted")
        result.status = ApplyOutcome::Accepted; // reserved; durable only after the delivery report
    else if (verdict == "duplicate")
        result.status = ApplyOutcome::Duplicate;
    else if (verdict == "sold_out")
        result.status = ApplyOutcome::SoldOut;
    else if (verdict == "closed")
        result.status = ApplyOutcome::Closed;
    else if (verdict == "reconciling")
        result.status = ApplyOutcome::Reconciling;
    else
        result.status = ApplyOutcome::NotLoaded;
    if (result.status != ApplyOutcome::Accepted)
        result.ticket = 0;
    return true;
}

ApplyCore::ApplyCore(const ApplySettings &settings, const Clock &clock)
    : m_memo(SoldOutMemo::Options{settings.soldOutMemoMs, settings.soldOutMemoMaxUsers}, clock)
    // Request ids are unique per process run: a random prefix, then a counter.
    , m_requestPrefix(QByteArray::number(QRandomGenerator::system()->generate64(), 36) + '-')
{ }

ApplyCore::Begin ApplyCore::begin(const QString &campaign, qint64 userId)
{
    Begin b;
    b.result.requestId = m_requestPrefix
        + QByteArray::number(m_requestCounter.fetch_add(1, std::memory_order_relaxed), 36);
    if (!validateApply(campaign, userId, b.result)) {
        b.answered = true;
        return b;
    }
    b.memo = m_memo.lookup(campaign, userId);
    if (b.memo.answer) {
        b.result.status = *b.memo.answer;
        b.answered = true;
    }
    return b;
}

ApplyCore::Decision ApplyCore::decide(const QString &campaign, const Reply *reply, const Error &redisError,
                                      ApplyResult &result)
{
    Decision d;
    if (!reply) {
        m_memo.clear(); // Redis may come back with other data: no snapshot survives this
        if (redisError.is(Errc::RedisNoReply)) {
            result.status = ApplyOutcome::Uncertain;
            result.detail = redisError.message
                + u"; the apply may have been reserved: if so it is released automatically, since nothing was "
                  "sent to Kafka"_s;
        } else {
            result.status = ApplyOutcome::Unavailable;
            result.detail = redisError.message;
        }
        return d;
    }
    if (!readApplyReply(reply, result))
        return d;
    if (result.status == ApplyOutcome::SoldOut) {
        d.memoLoad = m_memo.claimLoad(campaign);
        return d;
    }
    if (result.status != ApplyOutcome::Accepted)
        return d;
    m_memo.changed(campaign); // this process reserved a slot: a snapshot on its way may predate it
    d.produce = true;
    return d;
}

ApplyCore::AfterDelivery ApplyCore::delivered(const QString &campaign, const DeliveryReport &report,
                                              ApplyResult &result)
{
    switch (report.outcome) {
    case DeliveryReport::Outcome::Persisted:
        result.status = ApplyOutcome::Accepted;
        result.partition = report.partition;
        result.offset = report.offset;
        return AfterDelivery::Confirm;
    case DeliveryReport::Outcome::NotPersisted:
        result.status = ApplyOutcome::Unavailable;
        if (result.detail.isEmpty())
            result.detail = u"Kafka: "_s + report.error.message;
        m_memo.changed(campaign); // the slot comes back: a snapshot holding the user is wrong now
        return AfterDelivery::Release;
    case DeliveryReport::Outcome::PossiblyPersisted: break;
    }
    // Possibly written: keep the reservation pending; the reaper settles it
    // against MySQL once the topic is drained.
    result.status = ApplyOutcome::Uncertain;
    result.detail = u"Kafka (possibly persisted): "_s + report.error.message;
    return AfterDelivery::KeepPending;
}

} // namespace coupon
