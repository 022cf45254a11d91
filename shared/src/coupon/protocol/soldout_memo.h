#pragma once

#include "coupon/base/clock.h"
#include "coupon/protocol/apply_outcome.h"
#include "coupon/protocol/reply.h"

#include <QHash>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <vector>

namespace coupon {

// Once a campaign sells out the crowd keeps coming, and every later apply
// would cost a Redis round trip to learn one of two answers: `duplicate`
// for a holder, `sold_out` for everyone else. The memo keeps, per sold-out
// campaign, a snapshot of its holders taken atomically in Redis
// (scripts::soldOutSnapshot) and answers those applies in process, exactly
// as the apply script would have at the snapshot's time.
//
// A snapshot answers for `validForMs` after the moment it was asked for;
// then the next apply goes to Redis and re-checks the campaign's fingerprint
// (limit, state, window, epoch, count: scripts::fingerprint). Unchanged, the
// snapshot answers for another `validForMs`; changed (a reservation was
// released, the campaign was closed, reset, rebuilt or given a new limit),
// it is dropped and Redis answers until the next `sold_out` takes a new
// one. So an answer is never older than `validForMs` plus one round trip.
// The service drops a campaign's snapshot (and any on its way) when it
// reserves or releases a slot itself (changed()), and every snapshot when
// Redis fails or reconnects (clear()). Near the campaign's window edges the
// memo does not answer (Redis' clock decides there), nor for campaigns with
// more than `maxUsers` holders.
//
// Thread-safe: lookups take a shared lock; the services call claimLoad/
// loaded/checked from whichever thread their Redis replies arrive on.
class SoldOutMemo
{
public:
    struct Options
    {
        int validForMs = 100; // 0: the memo is off
        qint64 maxUsers = 1000000;
        int maxCampaigns = 64;
    };
    // Validity is measured on `clock` (a test moves a ManualClock by hand).
    explicit SoldOutMemo(Options options, const Clock &clock = SteadyClock::instance());
    ~SoldOutMemo();
    SoldOutMemo(const SoldOutMemo &) = delete;
    SoldOutMemo &operator=(const SoldOutMemo &) = delete;

    bool enabled() const { return m_options.validForMs > 0; }
    // ARGV of scripts::soldOutSnapshot: the most holders to copy.
    QByteArray snapshotArgument() const { return QByteArray::number(m_options.maxUsers); }

    struct Lookup
    {
        std::optional<ApplyOutcome> answer; // Duplicate or SoldOut; empty: ask Redis
        // The snapshot is due: the caller sends scripts::fingerprint, then checked() with these.
        bool check = false;
        quint64 snapshotId = 0;
        qint64 checkSentAtMs = 0;
    };
    Lookup lookup(const QString &campaign, qint64 userId);

    // The apply script answered sold_out: a non-zero token when this caller
    // should send scripts::soldOutSnapshot now and hand the reply to loaded()
    // with it (one load at a time per campaign, at most one per validForMs
    // after a load that took no snapshot).
    quint64 claimLoad(const QString &campaign);
    // The snapshot script's reply (nullptr when the call failed) for the load `token`.
    void loaded(const QString &campaign, quint64 token, const Reply *reply);
    // The fingerprint script's reply (nullptr: failed) for a Lookup that asked for a check.
    void checked(const QString &campaign, const Lookup &due, const Reply *reply);
    // This process changed the campaign in Redis (reserved or released a
    // slot): drop its snapshot and any load on its way.
    void changed(const QString &campaign);
    // Redis failed or reconnected (it may have lost or forked its data): drop everything.
    void clear();

    qint64 answers() const { return m_answers.load(std::memory_order_relaxed); }
    qint64 snapshots() const { return m_snapshots.load(std::memory_order_relaxed); }
    qint64 loads() const { return m_loads.load(std::memory_order_relaxed); }
    qint64 nowMs() const { return m_clock.nowMs(); }

private:
    struct Snapshot
    {
        quint64 id = 0; // the load's token
        QByteArray fingerprint;
        std::vector<qint64> holders; // sorted
        qint64 startsMs = 0, endsMs = 0;
        std::atomic<qint64> redisClockOffsetMs{0}; // Redis' clock minus ours, as last seen
        std::atomic<qint64> validUntilMs{0};
        std::atomic<bool> checking{false};
        std::atomic<qint64> checkSentAtMs{0};
    };
    struct Entry
    {
        std::shared_ptr<Snapshot> snapshot; // null while none
        quint64 loadToken = 0;              // the load on its way (0: none)
        qint64 loadClaimedAtMs = -1;
        qint64 lastLoadMs = -1; // the last load that took no snapshot
        qint64 lastUsedMs = 0;  // claimed, installed or confirmed: for eviction
    };
    bool loadAllowed(const Entry &e, qint64 now) const;
    void evictIfFull(qint64 now);

    const Options m_options;
    const Clock &m_clock;
    mutable std::shared_mutex m_mutex;
    QHash<QString, Entry> m_entries;
    quint64 m_nextToken = 0; // under m_mutex
    std::atomic<qint64> m_answers{0};
    std::atomic<qint64> m_snapshots{0};
    std::atomic<qint64> m_loads{0};
};

} // namespace coupon
