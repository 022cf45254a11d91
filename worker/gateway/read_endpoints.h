#pragma once

// GET /api/v1/campaigns/{id} and GET /api/v1/campaigns/{id}/users/{userId}.

#include "coupon/base/settings.h"
#include "coupon/http/server.h"
#include "coupon/protocol/keys.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QThread>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

struct redisReply;

namespace coupon {

class AsyncRedis;

namespace gateway {

class DbReader;
class Metrics;

// The read endpoints: Redis first (on the event loop), then MySQL on a reader
// thread of its own, so the loop never waits for MySQL. Each read is a chain
// of named steps sharing one state object.
class ReadEndpoints : public QObject
{
public:
    ReadEndpoints(const MysqlSettings &mysql, AsyncRedis &redis, Metrics &metrics);
    ~ReadEndpoints() override; // closes the reader's connection and stops its thread

    // Closes the reader's MySQL connection and stops its thread now (the
    // destructor does it otherwise); reads asked for afterwards get no answer
    // from MySQL. The gateway stops it before the apply service goes, as it
    // did before the split: in the other order LeakSanitizer reported 904
    // bytes of OpenSSL's per-thread error state (from its configuration load)
    // at exit in 5 of 8 runs of tst_gateway; in this order, in none of 5.
    void stopDatabase();

    void campaign(const QString &campaign, http::Responder responder, qint64 startedNs);

    // What MySQL, the record, says of a campaign Redis does not have: its
    // state ("open", "closed"), nullopt inside when there is no such
    // campaign, nullopt outside when MySQL could not say. Answers are cached
    // for 2 s (at most 10,000 campaigns), so a crowd costs MySQL one query.
    using CampaignState = std::optional<std::optional<QString>>;
    void campaignState(const QString &campaign, std::function<void(const CampaignState &)> done);
    void user(const QString &campaign, qint64 userId, http::Responder responder, qint64 startedNs);

private:
    struct CampaignRead;
    struct UserRead;

    void campaignMetaRead(const std::shared_ptr<CampaignRead> &read, const redisReply *meta);
    void campaignCountRead(const std::shared_ptr<CampaignRead> &read, const redisReply *count);
    void campaignIssuedRead(const std::shared_ptr<CampaignRead> &read, std::optional<qint64> issued);

    void userPendingRead(const std::shared_ptr<UserRead> &read, const redisReply *pending);
    void userMemberRead(const std::shared_ptr<UserRead> &read, const redisReply *member);
    void userCouponRead(const std::shared_ptr<UserRead> &read, std::optional<bool> hasCoupon);

    struct CachedState
    {
        std::optional<QString> state;
        qint64 atMs = 0;
    };
    QHash<QString, CachedState> m_states;
    QHash<QString, std::vector<std::function<void(const CampaignState &)>>> m_stateWaiters;
    int m_stateWaiting = 0; // callers waiting for MySQL's answer; at 10,000 the answer is "cannot say" (503)
    QElapsedTimer m_clock;

    AsyncRedis &m_redis;
    Metrics &m_metrics;
    std::unique_ptr<DbReader> m_db;
    QThread m_dbThread;
};

} // namespace gateway
} // namespace coupon
