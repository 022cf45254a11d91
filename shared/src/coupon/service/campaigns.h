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

// One campaign seen from every side at once: its MySQL record, its Redis
// state and counters, its coupons and poison, the topic lag.
struct CampaignOverview
{
    Campaign campaign;        // MySQL's record
    bool redisLoaded = false; // meta present in Redis
    QString redisState;
    qint64 redisLimit = -1;
    qint64 redisCount = -1;  // the ticket counter
    qint64 redisUsers = -1;  // |users|
    qint64 pending = -1;     // reservations not yet confirmed durable
    qint64 coupons = 0;      // rows in MySQL
    qint64 failedEvents = 0; // poison attributed to this campaign
    qint64 topicLag = -1;    // the worker group's lag on the whole topic
};

struct SettleReport
{
    qint64 confirmed = 0; // coupon found: pending mark dropped
    qint64 released = 0;  // drained and no coupon: reservation undone
    qint64 waiting = 0;   // younger than the grace period, or topic not drained
};

struct AuditReport
{
    bool ok = false;
    QStringList violations; // one line per broken invariant
    QString summary;        // "100 issued of 100 · 0 duplicates · 0 lost · 0 stray"
    CampaignOverview status;
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
    // Reloads users and count from MySQL after the topic drained; for Redis
    // that lost the campaign (applies answer not_loaded until then).
    Status rebuild(const QString &id, int drainTimeoutMs);
    Result<CampaignOverview> status(const QString &id);
    Result<QList<Campaign>> list() { return m_store->campaigns(); }

    // Settles pending reservations older than graceMs against MySQL.
    Result<SettleReport> settle(const QString &id, qint64 graceMs);

    Result<QList<PartitionLag>> lag();
    // Polls the group's lag until it is 0 or the deadline passes.
    Status waitForDrain(int timeoutMs);

    // Waits for the drain and for pending reservations to settle, then checks
    // the five invariants of docs/DESIGN.md. `answered` (optional) makes 3
    // and 4 exact; without it they are checked against Redis' users set.
    Result<AuditReport> audit(const QString &id, int timeoutMs, const AnsweredApplies *answered = nullptr);

private:
    Result<Campaign> require(const QString &id);
    Status loadMeta(const Campaign &campaign);
    Status clearRedis(const QString &id);

    Settings m_settings;
    std::unique_ptr<CouponStore> m_store;
    RedisConnection m_redis;
    std::unique_ptr<LagProbe> m_lag;
};

} // namespace coupon
