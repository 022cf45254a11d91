#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/service/campaigns.h"

#include <QElapsedTimer>
#include <QHash>

#include <atomic>
#include <optional>

namespace coupon {

// Redis is a cache of promises; the topic and MySQL are the record. The
// reconciler keeps the cache honest with no operator, from one worker at a
// time (a lease in Redis, renewed every pass):
//  - A campaign whose meta another Redis instance stamped (restart,
//    failover, restore) or that an open campaign lost altogether answers
//    `reconciling`; the reconciler waits out the producer's delivery timeout
//    from when it saw it (a produce in flight then may still land), waits
//    for the worker group to commit past the topic's end as it is then,
//    reloads holders and count from MySQL and stamps the meta with the
//    current instance: the campaign reopens by itself.
//  - Pending reservations older than the settle grace are settled against
//    MySQL once the topic is drained past them: a coupon confirms, none
//    releases (a gateway that died, a Redis that ran a script after its
//    caller gave up, a Kafka outcome never known).
// What the reconciler publishes for the worker's /metrics (written by its
// thread, read from any): all zero while another worker holds the lease.
struct ReconcilerStats
{
    std::atomic<bool> leading{false};
    std::atomic<int> reconciling{0};            // campaigns answering `reconciling`
    std::atomic<qint64> reconcilingOldestMs{0}; // how long the oldest of them has
    std::atomic<qint64> pendingOldestAgeMs{0};  // the oldest pending reservation's age (Redis time)
    std::atomic<qint64> graceMs{0};             // the settle grace in force
    std::atomic<qint64> errors{0};              // passes that failed
    // Barriers (CampaignOps::barrier) this leader wrote: acknowledged on
    // every partition, or failed (a partition below its in-sync replicas,
    // or a follower stalled past the wait), and how long the last one took.
    // Reconciliation and settlement wait on them: a slow barrier is a slow
    // ISR, seen here before a campaign has reconciled for long.
    std::atomic<qint64> barriers{0};
    std::atomic<qint64> barrierErrors{0};
    std::atomic<qint64> barrierLastMs{0};
};

class Reconciler
{
public:
    explicit Reconciler(const Settings &settings);
    ~Reconciler();

    // Passes every worker.reconcile.interval.ms until `stop`; gives up the
    // lease on the way out. Errors of one pass are logged and retried.
    void run(const std::atomic<bool> &stop);
    // One pass (tests drive this directly).
    Status pass();
    const ReconcilerStats &stats() const { return m_stats; }

private:
    Result<bool> lead();
    Status settleDue(const QList<QString> &withPending, qint64 cutoffMs);

    struct Stale
    {
        QElapsedTimer since;                         // when this reconciler first saw it
        qint64 sinceRedisMs = 0;                     // the same, on Redis' clock (published for the console)
        std::optional<QList<PartitionLag>> snapshot; // the topic's end once the delivery timeout passed
    };

    Settings m_settings;
    CampaignOps m_ops;
    QByteArray m_id; // lease holder id: host, pid, random
    bool m_connected = false;
    quint64 m_passes = 0;
    QHash<QString, Stale> m_stale;
    struct SettleRound
    {
        QList<PartitionLag> snapshot; // the topic's end when the round began
        qint64 cutoffMs = 0;          // pending scores up to this (Redis ms) are settled once drained past it
    };
    std::optional<SettleRound> m_round;
    bool m_leading = false;                 // held the lease at the last pass
    QHash<QString, qint64> m_oldestPending; // campaign -> its oldest pending reservation's score (Redis ms)
    ReconcilerStats m_stats;
};

} // namespace coupon
