#pragma once

#include "coupon/apply.h"

#include <QElapsedTimer>
#include <QHash>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <vector>

struct redisReply;

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
// Near the campaign's window edges the memo does not answer (Redis' clock
// decides there), nor for campaigns with more than `maxUsers` holders.
//
// Thread-safe: lookups take a shared lock; the services call claim*/
// loaded/checked from whichever thread their Redis replies arrive on.
class SoldOutMemo
{
public:
    struct Options
    {
        int validForMs = 100; // 0: the memo is off
        qint64 maxUsers = 1000000;
        int maxCampaigns = 16;
    };
    explicit SoldOutMemo(Options options);
    ~SoldOutMemo();
    SoldOutMemo(const SoldOutMemo &) = delete;
    SoldOutMemo &operator=(const SoldOutMemo &) = delete;

    bool enabled() const { return m_options.validForMs > 0; }

    struct Lookup
    {
        std::optional<ApplyStatus> answer; // Duplicate or SoldOut; empty: ask Redis
        bool check = false; // the snapshot is due: the caller sends scripts::fingerprint, then checked()
        qint64 checkSentAtMs = 0;
    };
    Lookup lookup(const QString &campaign, qint64 userId);

    // The apply script answered sold_out: true when this caller should send
    // scripts::soldOutSnapshot now (one load at a time per campaign, and at
    // most one per validForMs after a load that took no snapshot).
    bool claimLoad(const QString &campaign);
    // The snapshot script's reply; nullptr when the call failed.
    void loaded(const QString &campaign, const redisReply *reply);
    // The fingerprint script's reply (nullptr: failed) for the check sent at `sentAtMs`.
    void checked(const QString &campaign, const redisReply *reply, qint64 sentAtMs);
    // This process saw the campaign change in Redis (it reserved or released
    // a slot): drop its snapshot, and any snapshot still on its way, so the
    // users of this process never hear an answer older than their own.
    void changed(const QString &campaign);

    qint64 answers() const { return m_answers.load(std::memory_order_relaxed); }
    qint64 snapshots() const { return m_snapshots.load(std::memory_order_relaxed); }
    qint64 nowMs() const { return m_clock.elapsed(); }

private:
    struct Snapshot
    {
        QByteArray fingerprint;
        std::vector<qint64> holders; // sorted
        qint64 redisNowMs = 0;       // Redis' clock when taken
        qint64 takenAtMs = 0;        // our clock when asked for
        qint64 startsMs = 0, endsMs = 0;
        std::atomic<qint64> validUntilMs{0};
        std::atomic<bool> checking{false};
    };
    struct Entry
    {
        std::shared_ptr<Snapshot> snapshot; // null while none
        qint64 loadClaimedAtMs = -1;         // a load in flight since
        qint64 lastLoadMs = -1;              // the last load that took no snapshot
        quint64 generation = 0;              // raised by changed()
        quint64 loadGeneration = 0;          // generation when the load in flight was claimed
    };
    void evictIfFull();

    const Options m_options;
    QElapsedTimer m_clock;
    mutable std::shared_mutex m_mutex;
    QHash<QString, Entry> m_entries;
    std::atomic<qint64> m_answers{0};
    std::atomic<qint64> m_snapshots{0};
};

} // namespace coupon
