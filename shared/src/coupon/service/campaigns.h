#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/kafka/kafka.h"
#include "coupon/mysql/store.h"
#include "coupon/redis/redis.h"

#include <QList>
#include <QSet>
#include <QStringList>

#include <memory>

namespace coupon {

// What the reconciler published about rebuilding a campaign (keys.h,
// CampaignKeys::reconcile). An empty step: nothing published (no worker
// leads reconciliation, or it has not seen the campaign yet).
struct ReconcileProgress
{
    QString step;        // kReconcileStep*
    qint64 sinceMs = -1; // Redis ms: since when the reconciler has seen the campaign not current
    qint64 behind = -1;  // the drain step: messages the group has yet to commit before the barrier
};

// One campaign seen from every side at once: its MySQL record, its Redis
// state and counters, its coupons and poison, the topic lag.
struct CampaignOverview
{
    Campaign campaign;         // MySQL's record
    bool redisLoaded = false;  // meta present in Redis
    bool redisCurrent = false; // ...and stamped by the Redis answering now (else applies answer reconciling)
    QString redisState;
    qint64 redisLimit = -1;
    qint64 redisCount = -1;             // the ticket counter
    qint64 redisUsers = -1;             // |users|
    qint64 pending = -1;                // reservations not yet confirmed durable
    qint64 coupons = 0;                 // rows in MySQL
    qint64 failedEvents = 0;            // poison attributed to this campaign
    qint64 topicLag = -1;               // the worker group's lag on the whole topic
    qint64 oldestPendingMs = -1;        // the oldest pending reservation's time (Redis ms); -1: none
    bool maintenance = false;           // an operator's reset or rebuild runs
    ReconcileProgress reconcile;        // while not current
    qint64 unresolvedFailedEvents = -1; // of failedEvents, not retried or resolved yet (overview() only)
};

// Every campaign at once, as cheap as it gets for many campaigns: one
// MySQL query for the campaigns, one grouped for their unresolved failed
// events, one Redis pipeline for all their keys, one look at the lag. Each
// campaign's `coupons` is -1 (not counted: campaign.issued, advanced in the
// transaction that inserts the coupons, says it), so is its `failedEvents`
// (unresolvedFailedEvents says what is left to do) and its `topicLag`.
struct CampaignsOverview
{
    QList<CampaignOverview> campaigns;
    qint64 redisNowMs = 0;        // Redis' clock when its keys were read
    qint64 deliveryTimeoutMs = 0; // CampaignOps::deliveryTimeoutMs()
    qint64 topicLag = -1;         // the worker group's lag on the whole topic; -1: Kafka did not answer
    QString lagError;
};

// A reservation not yet confirmed durable: the pending sorted set's member and score.
struct PendingReservation
{
    qint64 userId = 0;
    qint64 atMs = 0; // Redis ms
};

struct PendingPage
{
    qint64 total = 0;                       // ZCARD
    qint64 redisNowMs = 0;                  // read in the same pipeline
    QList<PendingReservation> reservations; // oldest first
};

struct SettleReport
{
    qint64 confirmed = 0; // coupon found: pending mark dropped
    qint64 released = 0;  // drained past it and no coupon: reservation undone
    qint64 waiting = 0;   // old enough, but the topic is not drained past it yet (or Redis changed)
    qint64 young = 0;     // younger than the grace: its message may still be on its way
    qint64 graceMs = 0;   // the grace used (never below the producer's delivery timeout)
};

struct AuditReport
{
    bool ok = false;
    QStringList violations; // one line per broken invariant
    QString summary;        // "100 issued of 100 · 0 duplicates · 0 lost · 0 stray"
    CampaignOverview status;
    // Poison nobody has retried or resolved yet (couponctl failed): this
    // campaign's, and those that name no campaign at all. Not a broken
    // invariant, but an operator's to do: `notes` says so, one line each.
    qint64 unresolvedFailedEvents = 0;
    qint64 unattributedFailedEvents = 0;
    QStringList notes;
};

// What an apply run answered, for the exact form of invariants 3 and 4.
struct AnsweredApplies
{
    QSet<qint64> accepted;
    QSet<qint64> rejected; // 4xx, or released 503
};

// Campaign operations shared by couponctl, the console and the tests. Owns
// one MySQL connection (named after `connectionName`, for the calling
// thread) and one Redis connection; not thread-safe.
class CampaignOps
{
public:
    CampaignOps(const Settings &settings, const QString &connectionName);
    ~CampaignOps();

    Status connect(); // MySQL (and migrations), Redis
    CouponStore &store() { return *m_store; }
    RedisConnection &redis() { return m_redis; }

    // Errors: campaign.invalid, campaign.exists, campaign.unknown,
    // campaign.state, plus the services' own.
    Status create(const Campaign &spec);
    Status open(const QString &id);
    Status close(const QString &id);
    Status setLimit(const QString &id, qint64 limit); // closed campaigns only
    // Deletes the coupons, failed events and Redis keys of a campaign after
    // the topic drained (so no message of it arrives afterwards); keeps it
    // open or closed as it was, with a fresh counter.
    Status reset(const QString &id, int drainTimeoutMs);
    // Rebuilds the campaign's Redis state from the record: applies answer
    // reconciling meanwhile; waits out the producer's delivery timeout (a
    // produce in flight may still land) and until the worker group has
    // drained the topic past that moment, then reloads users and count from
    // MySQL, empties pending and stamps the meta with this Redis instance.
    Status rebuild(const QString &id, int drainTimeoutMs);
    // The last step alone, for a caller that has waited as rebuild() does:
    // reloads users and count from MySQL and stamps the meta, in one
    // transaction under WATCH (MySQL is read after the WATCH, so an
    // operator's close in between aborts it), and only while the meta's
    // instance is still `expected` (a rebuild's own token), or, with
    // expected empty, while it is not current and no operator's reset or
    // rebuild runs. Errc::CampaignState when that no longer holds.
    Status reloadFromRecord(const QString &id, const QByteArray &expected = {});
    // The run_id of the Redis the connection reached, connecting first.
    Result<QByteArray> instance();

    // The high watermark of every partition now, and whether the worker
    // group has committed up to a snapshot like it.
    Result<QList<PartitionLag>> topicSnapshot() { return lag(); }
    // The point every record that will ever precede "now" in the log is
    // behind: a barrier on every partition (kafka.h, appendBarriers), waited
    // for up to the delivery timeout + 30 s (an in-sync follower that stalls
    // holds it until it catches up or leaves the ISR).
    Result<QList<PartitionLag>> barrier();
    Result<bool> drainedPast(const QList<PartitionLag> &snapshot);
    static bool drainedPast(const QList<PartitionLag> &snapshot, const QList<PartitionLag> &now);
    // How many messages before `snapshot` the group has not committed yet.
    static qint64 behind(const QList<PartitionLag> &snapshot, const QList<PartitionLag> &now);
    Status waitForDrainPast(const QList<PartitionLag> &snapshot, int timeoutMs);
    // How long after a reservation its message may still land: the longest
    // of ours (kafka.message.timeout.ms, default 10 s) and those every
    // producer announces in Redis (kDeliveryTimeoutsKey) as it connects.
    qint64 deliveryTimeoutMs();
    Result<CampaignOverview> status(const QString &id);
    Result<CampaignsOverview> overview();
    // Pending reservations `offset` to `offset + count - 1`, oldest first.
    Result<PendingPage> pendingReservations(const QString &id, qint64 offset, int count);
    Result<QList<Campaign>> list() { return m_store->campaigns(); }

    // Settles pending reservations older than graceMs (raised to the
    // delivery timeout + 1 s if below) against MySQL: a coupon confirms one;
    // none once the worker group has drained the topic past it (waiting up to
    // drainTimeoutMs) releases it.
    Result<SettleReport> settle(const QString &id, qint64 graceMs, int drainTimeoutMs = 5000);
    // The step after the wait: settles up to 1000 pending reservations with
    // a score (Redis ms) at or below cutoffMs; releases only when the caller
    // has seen the group drain past a topic snapshot taken after
    // cutoffMs + the delivery timeout (drainedPastCutoff), confirms anyway.
    Result<SettleReport> settleUpTo(const QString &id, qint64 cutoffMs, bool drainedPastCutoff);
    Result<qint64> redisNowMs(); // Redis' clock, as pending scores are
    // Younger than the delivery timeout, a reservation's message may still
    // land: the grace asked for, never below the delivery timeout + 1 s.
    qint64 settleGraceMs(qint64 requestedMs);

    Result<QList<PartitionLag>> lag();
    // Polls the group's lag until it is 0 or the deadline passes.
    Status waitForDrain(int timeoutMs);

    // Waits for the drain and for pending reservations to settle, then checks
    // the five invariants of docs/DESIGN.md. `answered` (optional) makes 3
    // and 4 exact; without it they are checked against Redis' users set.
    Result<AuditReport> audit(const QString &id, int timeoutMs, const AnsweredApplies *answered = nullptr);

private:
    Result<Campaign> require(const QString &id);
    // stamp: the users and count are fresh from the record (or new): stamp
    // the meta with this Redis instance; otherwise keep its stamp.
    Status loadMeta(const Campaign &campaign, bool stamp);
    // An operator's reset or rebuild runs for at most `ms` (a killed couponctl
    // leaves the mark for no longer): the reconciler leaves the campaign alone.
    Status setMaintenance(const QString &id, bool on, qint64 ms = 0);
    // Waits out the delivery timeout, then until the group has committed
    // past the topic's end as it is then.
    Status waitForRecord(int drainTimeoutMs);
    Status clearRedis(const QString &id);

    Settings m_settings;
    std::unique_ptr<CouponStore> m_store;
    RedisConnection m_redis;
    std::unique_ptr<LagProbe> m_lag;
};

} // namespace coupon
