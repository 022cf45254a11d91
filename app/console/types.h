#pragma once

// Values the console's worker threads hand to the GUI thread (by queued
// signals, so every type here is copyable and registered as a metatype).

#include "coupon/kafka/group.h"
#include "coupon/kafka/kafka.h"
#include "coupon/loadgen/simulation.h"
#include "coupon/mysql/store.h"
#include "coupon/service/campaigns.h"
#include "coupon/service/failed_events.h"

#include <QList>
#include <QMetaType>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>

namespace coupon::console {

// One dependency as the service bar shows it.
struct ServiceState
{
    enum Health { Unknown, Up, Down };
    QString key;      // "redis", "mysql", "kafka", "workers", "gateway:<url>"
    QString name;     // "Redis"
    QString endpoint; // "127.0.0.1:6379"
    Health health = Unknown;
    QString detail;    // "3 members" / "ready"
    QString lastError; // the latest failure, kept after recovery
    qint64 changedAtMs = 0;
};

// One reading of a campaign's Redis keys (no SCAN: HMGET, GET, SCARD, ZCARD).
struct RedisSample
{
    qint64 atMs = 0;
    QString campaign;
    bool loaded = false; // meta present
    QString state;
    qint64 count = 0;
    qint64 limit = 0;
    qint64 users = 0;
    qint64 pending = 0;
};

// One reading of the worker group on the topic.
struct LagSnapshot
{
    qint64 atMs = 0;
    bool lagOk = false;
    QString lagError;
    QList<PartitionLag> partitions;
    bool groupOk = false;
    QString groupError;
    GroupDescription group;
};

// What the simulation thread needs for one run; the progress and the cancel
// flag are shared with the GUI thread, which reads and sets them directly.
struct SimulationRun
{
    SimulationOptions options;
    QString target; // empty: in this process; else gateway base URLs (parseTargets())
    std::shared_ptr<SimulationProgress> progress;
    std::shared_ptr<std::atomic<bool>> cancel;
};

using CampaignList = QList<Campaign>;
using CouponRows = QList<CouponRow>;
using FailedEventRows = QList<FailedEventRow>;

// A retry the operator asked for: the original bytes (no correction), or a
// corrected campaign and user with the typed confirmation.
struct FailedEventRetry
{
    qint64 id = 0;
    QString by;
    std::optional<RetryTarget> correction;
    QString confirmation;
};
using UserFilter = std::optional<qint64>;

// Rows the coupon browser wants: `limit` coupons from ascending position
// `position` among those with id <= maxId (`total` of them). Served by key
// from a loaded neighbour when there is one (afterId: the coupon just before;
// beforeId: the one just after), else by position.
struct CouponWindowRequest
{
    QString campaign;
    UserFilter user;
    qint64 position = 0;
    int limit = 0;
    qint64 afterId = 0;
    qint64 beforeId = 0;
    qint64 total = 0;
    qint64 maxId = 0;
};

// One reading of a campaign's pending reservations (the oldest `window`),
// with what the overview knows of Redis' delivery timeout.
struct ReservationsSample
{
    QString campaign;
    PendingPage page;
    QString error; // the read failed: page is empty
};

void registerMetaTypes();

} // namespace coupon::console

Q_DECLARE_METATYPE(coupon::console::ServiceState)
Q_DECLARE_METATYPE(coupon::console::RedisSample)
Q_DECLARE_METATYPE(coupon::console::LagSnapshot)
Q_DECLARE_METATYPE(coupon::console::SimulationRun)
Q_DECLARE_METATYPE(coupon::Campaign)
Q_DECLARE_METATYPE(coupon::CouponRow)
Q_DECLARE_METATYPE(coupon::FailedEventRow)
Q_DECLARE_METATYPE(coupon::AuditReport)
Q_DECLARE_METATYPE(coupon::AnsweredApplies)
Q_DECLARE_METATYPE(coupon::SimulationReport)
Q_DECLARE_METATYPE(coupon::console::UserFilter)
Q_DECLARE_METATYPE(coupon::console::FailedEventRetry)
Q_DECLARE_METATYPE(coupon::console::CouponWindowRequest)
Q_DECLARE_METATYPE(coupon::CouponJump)
Q_DECLARE_METATYPE(coupon::CampaignsOverview)
Q_DECLARE_METATYPE(coupon::SettleReport)
Q_DECLARE_METATYPE(coupon::console::ReservationsSample)
