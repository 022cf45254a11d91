#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/protocol/codec.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QSqlDatabase>
#include <QString>

#include <optional>
#include <vector>

namespace coupon {

struct Campaign
{
    QString id;
    QString name;
    qint64 limit = 0;
    qint64 issued = 0;
    QString state;      // "open" or "closed"
    QDateTime startsAt; // invalid: no start
    QDateTime endsAt;   // invalid: no end
    QDateTime createdAt;
};

struct CouponRow
{
    qint64 id = 0;
    QString campaign;
    qint64 userId = 0;
    qint64 ticket = 0;
    QDateTime issuedAt;
    int partition = -1;
    qint64 offset = -1;
};

// Where the coupon browser jumps: a coupon id (that coupon or the nearest),
// a user (their coupon) or a time (the first coupon issued at or after it).
struct CouponJump
{
    enum Kind { Id, User, Time };
    Kind kind = Id;
    qint64 value = 0; // the coupon id or the user id
    QDateTime time;
};

// A campaign's coupons (of one user, or all) as the browser counts them:
// how many with an id above some id, and the highest id among them (0: none).
struct CouponSpan
{
    qint64 count = 0;
    qint64 maxId = 0;
};

struct FailedEventRow
{
    qint64 id = 0;
    QString topic;
    int partition = -1;
    qint64 offset = -1;
    QByteArray key;
    QByteArray value;
    QString reason;
    QString campaign;
    QDateTime createdAt;
    // The operator's workflow (couponctl failed, the console's tab).
    QDateTime resolvedAt; // invalid: unresolved
    QString resolvedBy;
    QString resolution; // why, or what the accepted retry was
    int retries = 0;
    QDateTime lastRetryAt;
    QString lastRetryBy;
    QString lastRetryOutcome; // e.g. "duplicate (retried as spring/42)"

    bool resolved() const { return resolvedAt.isValid(); }
};

// One consumed record on its way into MySQL: decoded, or poison with a reason.
struct IncomingRecord
{
    int partition = -1;
    qint64 offset = -1;
    QByteArray key;
    QByteArray value;
    std::optional<CouponMessage> message; // empty: poison, or a barrier
    bool barrier = false;                 // a reconciler's barrier: nothing to write, only to pass
    QString poisonReason;
    QString poisonCampaign; // the campaign header, when there was a readable one
};

struct BatchOutcome
{
    int inserted = 0;                  // new coupons
    int duplicates = 0;                // already held (replays, the same message twice)
    int poison = 0;                    // recorded in failed_event (bad bytes, unknown campaign, over the limit)
    QHash<QString, int> poisonReasons; // the poison by failed_event.reason
};

// MySQL access for one thread: opens its own named QSqlDatabase connection
// and removes it on destruction. Every call that fails returns the error;
// "mysql.connection" means the connection is gone and reopen() plus a retry
// of the whole unit of work is the remedy (nothing was committed).
// A facade over the pieces that do the work, each in its own file:
// migrations.h (schema versions), batch_writer.h (the worker's batches),
// queries.h (reads), campaign_writes.h (the operator's changes), all with
// one transaction guard (transaction.h).
class CouponStore
{
public:
    CouponStore(MysqlSettings settings, QString connectionName);
    ~CouponStore();
    CouponStore(const CouponStore &) = delete;
    CouponStore &operator=(const CouponStore &) = delete;

    Status open();
    Status reopen();
    // A round trip (SELECT 1): whether MySQL answers on this connection.
    Status ping();

    // Applies the missing versioned migrations (idempotent, serialised
    // across processes by a named lock). Needs the schema privileges of the
    // admin role; a role without them gets "mysql.schema" with a remedy when
    // the schema is behind, and Ok when it is current.
    Status migrate();
    Result<int> schemaVersion();
    static int latestSchemaVersion();

    // One transaction: inserts the batch's new coupons, advances
    // campaign.issued only within coupon_limit, records poison in
    // failed_event; replays are absorbed by UNIQUE(campaign_id, user_id) and
    // UNIQUE(topic, partition, offset).
    Result<BatchOutcome> writeBatch(const QString &topic, const std::vector<IncomingRecord> &records);

    // Campaigns.
    Status createCampaign(const Campaign &campaign);
    Result<std::optional<Campaign>> campaign(const QString &id);
    Result<QList<Campaign>> campaigns();
    Status setState(const QString &id, const QString &state);
    Status setLimit(const QString &id, qint64 limit);
    // Deletes the campaign's coupons and failed events, sets issued to 0.
    Status resetCampaign(const QString &id);

    // Coupons, keyset-paged by id (afterId = 0 for the first page).
    Result<qint64> couponCount(const QString &campaign);
    Result<QList<CouponRow>> coupons(const QString &campaign, qint64 afterId, int limit,
                                     std::optional<qint64> userId = std::nullopt);
    // The browser's positions: coupons in id order with id <= maxId (a
    // snapshot of the campaign), counted from 0. couponsAt() reads `limit`
    // rows from `position` of `total` by OFFSET from the nearer end;
    // couponsBefore() the `limit` rows below `beforeId`, in id order;
    // couponSpan() counts those above `afterId`; couponPosition() is the
    // position of coupon `id`; findCoupon() the coupon a jump lands on (none:
    // no such user, nothing at or after the time, an empty campaign).
    Result<QList<CouponRow>> couponsAt(const QString &campaign, std::optional<qint64> userId, qint64 position,
                                       int limit, qint64 total, qint64 maxId);
    Result<QList<CouponRow>> couponsBefore(const QString &campaign, std::optional<qint64> userId, qint64 beforeId,
                                           int limit);
    Result<CouponSpan> couponSpan(const QString &campaign, std::optional<qint64> userId, qint64 afterId);
    Result<qint64> couponPosition(const QString &campaign, std::optional<qint64> userId, qint64 id);
    Result<std::optional<qint64>> findCoupon(const QString &campaign, std::optional<qint64> userId,
                                             const CouponJump &jump, qint64 maxId);
    Result<QList<qint64>> couponUsers(const QString &campaign); // every holder, sorted
    Result<qint64> duplicateHolders(const QString &campaign);   // users with >1 coupon
    Result<bool> hasCoupon(const QString &campaign, qint64 userId);
    // Failed events by id; unresolvedOnly leaves out those resolved.
    Result<QList<FailedEventRow>> failedEvents(qint64 afterId, int limit, const QString &campaign = {},
                                               bool unresolvedOnly = false);
    Result<std::optional<FailedEventRow>> failedEvent(qint64 id);
    Result<qint64> failedEventCount(const QString &campaign = {});
    // Unresolved failed events of `campaign`; with an empty campaign, those
    // attributed to no campaign (bytes with no readable campaign header).
    Result<qint64> unresolvedFailedEvents(const QString &campaign);
    // Every campaign's, in one query; campaigns without any are absent.
    Result<QHash<QString, qint64>> unresolvedFailedEventsByCampaign();
    // A retry's outcome on the row (who, when, what it answered); `resolved`
    // also stamps resolved_at with `resolution`. Errc::FailedEventResolved
    // when the row was resolved meanwhile, Errc::FailedEventUnknown when there is none.
    Status recordRetry(qint64 id, const QString &by, const QString &outcome, bool resolved, const QString &resolution);
    // Stamps resolved_at, resolved_by and resolution (same errors).
    Status resolveFailedEvent(qint64 id, const QString &by, const QString &resolution);

    QSqlDatabase database() const;

private:
    MysqlSettings m_settings;
    QString m_connectionName;
};

} // namespace coupon
