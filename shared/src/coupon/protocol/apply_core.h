#pragma once

#include "coupon/base/clock.h"
#include "coupon/base/error.h"
#include "coupon/base/settings.h"
#include "coupon/protocol/apply_outcome.h"
#include "coupon/protocol/codec.h"
#include "coupon/protocol/delivery.h"
#include "coupon/protocol/reply.h"
#include "coupon/protocol/soldout_memo.h"

#include <QByteArray>
#include <QString>

#include <atomic>

namespace coupon {

// The apply protocol (docs/DESIGN.md) with no transport: every decision the
// blocking ApplyService and the event-loop AsyncApplyService make, in one
// place. The services only move bytes: they send the scripts this names,
// produce the message it builds, and hand back what came of each step.
//
//   begin()    validate; the sold-out memo may answer at once; otherwise the
//              caller runs scripts::apply (and scripts::fingerprint when the
//              memo's snapshot is due: Begin::memo.check)
//   decide()   reads the apply script's reply: an answer, or a reservation
//              whose message must now be produced (and a memo load to send
//              when it said sold_out)
//   delivered() reads the delivery report: confirm (ZREM pending), release
//              (scripts::release, then released()), or keep it pending
//
// Thread-safe: the memo has its own lock; nothing else is mutable but the
// request counter.
class ApplyCore
{
public:
    explicit ApplyCore(const ApplySettings &settings, const Clock &clock = SteadyClock::instance());
    ApplyCore(const ApplyCore &) = delete;
    ApplyCore &operator=(const ApplyCore &) = delete;

    struct Begin
    {
        ApplyResult result;       // with its request id; final when `answered`
        bool answered = false;    // invalid input, or the memo knew
        SoldOutMemo::Lookup memo; // memo.check: also send scripts::fingerprint, then memoChecked()
    };
    Begin begin(const QString &campaign, qint64 userId);

    struct Decision
    {
        bool produce = false; // reserved: produce message(), then delivered() its report
        quint64 memoLoad = 0; // non-zero: send scripts::soldOutSnapshot, then memoLoaded() with this token
    };
    // The apply script's reply, or nullptr with the reason when Redis did not
    // answer. The memo forgets everything then (Redis may come back with
    // other data), and the answer is Unavailable when the script was never
    // sent, Uncertain when it was (redis.no_reply: it may have run, and then
    // its reservation is pending and is settled like any other).
    Decision decide(const QString &campaign, const Reply *reply, const Error &redisError, ApplyResult &result);

    // The message an accepted reservation produces.
    CouponMessage message(const QString &campaign, qint64 userId, const ApplyResult &result) const
    {
        return acceptedMessage(campaign, userId, result);
    }

    enum class AfterDelivery {
        Confirm,     // Accepted: drop the pending mark (ZREM, may be batched)
        Release,     // Unavailable: run scripts::release, then call released()
        KeepPending, // Uncertain: the reaper settles it against MySQL
    };
    // Fills the final answer from the delivery report. A produce that queued
    // nothing is a NotPersisted report whose result.detail was already set.
    AfterDelivery delivered(const QString &campaign, const DeliveryReport &report, ApplyResult &result);
    // The release script has run (or failed): a memo load on its way may have seen the user.
    void released(const QString &campaign) { m_memo.changed(campaign); }

    // The memo's two Redis calls come back.
    void memoLoaded(const QString &campaign, quint64 token, const Reply *reply)
    {
        m_memo.loaded(campaign, token, reply);
    }
    void memoChecked(const QString &campaign, const SoldOutMemo::Lookup &due, const Reply *reply)
    {
        m_memo.checked(campaign, due, reply);
    }
    // Redis failed or reconnected: no snapshot survives.
    void redisLost() { m_memo.clear(); }

    const SoldOutMemo &memo() const { return m_memo; }
    QByteArray memoSnapshotArgument() const { return m_memo.snapshotArgument(); }

private:
    SoldOutMemo m_memo;
    QByteArray m_requestPrefix;
    std::atomic<quint64> m_requestCounter{0};
};

// Reads the apply script's reply {verdict, ticket, now_ms} into `result`;
// false (and Unavailable) when the reply has another shape.
bool readApplyReply(const Reply *reply, ApplyResult &result);

} // namespace coupon
