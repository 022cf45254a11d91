#include "gateway/read_endpoints.h"

#include "coupon/mysql/sql_errors.h"
#include "coupon/mysql/store.h"
#include "coupon/redis/async_redis.h"
#include "coupon/redis/redis.h"
#include "gateway/answers.h"
#include "gateway/metrics.h"

#include <QDateTime>

#include <atomic>

using namespace Qt::StringLiterals;

namespace coupon::gateway {

// MySQL reads for the GET endpoints, on their own thread with their own
// connection (the gateway role may only SELECT): the event loop never waits.
class DbReader : public QObject
{
public:
    explicit DbReader(MysqlSettings settings)
        : m_settings(std::move(settings))
    { }

    // Reads queued on the reader's thread; beyond kMaxBacklog the reads
    // answer without MySQL rather than queue more.
    static constexpr int kMaxBacklog = 256;
    std::atomic<int> backlog{0};

    // Runs on the reader's thread.
    CouponStore *store()
    {
        if (!m_store) {
            m_store = std::make_unique<CouponStore>(m_settings, u"gateway-reader"_s);
            m_open = false;
        }
        if (!m_open) {
            m_open = m_store->open().ok();
            if (!m_open)
                return nullptr;
        }
        return m_store.get();
    }
    void failed(const Error &error)
    {
        if (errors::isConnectionError(error))
            m_open = false;
    }
    void close() { m_store.reset(); }

private:
    MysqlSettings m_settings;
    std::unique_ptr<CouponStore> m_store;
    bool m_open = false;
};

namespace {

QJsonValue iso(qint64 ms)
{
    return ms > 0 ? QJsonValue(QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs)) : QJsonValue();
}

} // namespace

struct ReadEndpoints::CampaignRead
{
    QString campaign;
    CampaignKeys keys;
    http::Responder responder;
    qint64 started = 0;
    QJsonObject json;
};

struct ReadEndpoints::UserRead
{
    QString campaign;
    qint64 userId = 0;
    QByteArray user; // userId in decimal, for Redis
    CampaignKeys keys;
    http::Responder responder;
    qint64 started = 0;
    bool pending = false;  // in the pending set: reserved, Kafka's answer not in yet
    bool reserved = false; // in the users set
};

ReadEndpoints::ReadEndpoints(const MysqlSettings &mysql, AsyncRedis &redis, Metrics &metrics)
    : m_redis(redis)
    , m_metrics(metrics)
    , m_db(std::make_unique<DbReader>(mysql))
{
    m_dbThread.setObjectName(u"gateway-db"_s);
    m_db->moveToThread(&m_dbThread);
    m_dbThread.start();
}

void ReadEndpoints::campaignState(const QString &campaign, std::function<void(const CampaignState &)> done)
{
    constexpr qint64 kTtlMs = 2000;
    if (!m_clock.isValid())
        m_clock.start();
    if (auto it = m_states.constFind(campaign); it != m_states.cend() && m_clock.elapsed() - it->atMs < kTtlMs)
        return done(CampaignState(it->state));
    auto waiting = m_stateWaiters.find(campaign);
    if (waiting != m_stateWaiters.end() && m_stateWaiting < 10000) {
        ++m_stateWaiting;
        waiting->push_back(std::move(done)); // one query for a crowd
        return;
    }
    if (m_db->backlog.load() > DbReader::kMaxBacklog || m_stateWaiting >= 10000)
        return done(std::nullopt);
    ++m_stateWaiting;
    m_stateWaiters[campaign].push_back(std::move(done));
    ++m_db->backlog;
    QMetaObject::invokeMethod(m_db.get(), [this, db = m_db.get(), campaign] {
        CampaignState answer;
        if (CouponStore *store = db->store()) {
            Result<std::optional<Campaign>> c = store->campaign(campaign);
            if (c)
                answer = *c ? std::optional<QString>((*c)->state) : std::optional<QString>();
            else
                db->failed(c.error());
        }
        --db->backlog;
        QMetaObject::invokeMethod(this, [this, campaign, answer] {
            if (answer) {
                if (m_states.size() > 10000)
                    m_states.clear();
                m_states.insert(campaign, CachedState{*answer, m_clock.elapsed()});
            }
            const std::vector<std::function<void(const CampaignState &)>> waiters = m_stateWaiters.take(campaign);
            m_stateWaiting -= int(waiters.size());
            for (const auto &done : waiters)
                done(answer);
        });
    });
}

ReadEndpoints::~ReadEndpoints()
{
    stopDatabase();
}

void ReadEndpoints::stopDatabase()
{
    if (!m_dbThread.isRunning())
        return;
    QMetaObject::invokeMethod(
        m_db.get(), [db = m_db.get()] { db->close(); }, Qt::BlockingQueuedConnection);
    m_dbThread.quit();
    m_dbThread.wait();
}

void ReadEndpoints::campaign(const QString &campaign, http::Responder responder, qint64 startedNs)
{
    auto read = std::make_shared<CampaignRead>(
        CampaignRead{campaign, CampaignKeys(campaign), std::move(responder), startedNs, {}});
    m_redis.command({"HMGET", read->keys.meta, "limit", "state", "starts", "ends"},
                    [this, read](const Result<const redisReply *> &meta) {
                        if (!meta)
                            return m_metrics.answer(Route::Campaign, read->responder,
                                                    dependencyDown(u"redis_unavailable"_s, meta.error().message),
                                                    read->started);
                        campaignMetaRead(read, *meta);
                    });
}

void ReadEndpoints::campaignMetaRead(const std::shared_ptr<CampaignRead> &read, const redisReply *m)
{
    if (m->type != REDIS_REPLY_ARRAY || m->elements != 4 || m->element[0]->type == REDIS_REPLY_NIL)
        return m_metrics.answer(
            Route::Campaign, read->responder,
            http::Response::error(404, u"unknown_campaign"_s, u"no campaign %1"_s.arg(read->campaign)), read->started);
    read->json[u"id"_s] = read->campaign;
    read->json[u"limit"_s] = replyInteger(m->element[0]).value_or(0);
    read->json[u"state"_s] = QString::fromLatin1(replyString(m->element[1]));
    read->json[u"startsAt"_s] = iso(replyInteger(m->element[2]).value_or(0));
    read->json[u"endsAt"_s] = iso(replyInteger(m->element[3]).value_or(0));
    m_redis.command({"GET", read->keys.count}, [this, read](const Result<const redisReply *> &count) {
        if (!count)
            return m_metrics.answer(Route::Campaign, read->responder,
                                    dependencyDown(u"redis_unavailable"_s, count.error().message), read->started);
        campaignCountRead(read, *count);
    });
}

void ReadEndpoints::campaignCountRead(const std::shared_ptr<CampaignRead> &read, const redisReply *count)
{
    read->json[u"reserved"_s] = replyInteger(count).value_or(0);
    // issued: the coupons in MySQL, read off the loop; null when MySQL can't say.
    if (m_db->backlog.load() > DbReader::kMaxBacklog)
        return campaignIssuedRead(read, std::nullopt);
    ++m_db->backlog;
    // The reader thread moves `read` on, so the last reference (and the
    // responder in it) is dropped on the event loop.
    QMetaObject::invokeMethod(m_db.get(), [this, read, db = m_db.get(), campaign = read->campaign]() mutable {
        std::optional<qint64> issued;
        if (CouponStore *store = db->store()) {
            Result<std::optional<Campaign>> c = store->campaign(campaign);
            if (c && *c)
                issued = (*c)->issued;
            else if (!c)
                db->failed(c.error());
        }
        --db->backlog;
        QMetaObject::invokeMethod(this, [this, read, issued] { campaignIssuedRead(read, issued); });
    });
}

void ReadEndpoints::campaignIssuedRead(const std::shared_ptr<CampaignRead> &read, std::optional<qint64> issued)
{
    read->json[u"issued"_s] = issued ? QJsonValue(*issued) : QJsonValue();
    m_metrics.answer(Route::Campaign, read->responder, http::Response::json(200, read->json), read->started);
}

void ReadEndpoints::user(const QString &campaign, qint64 userId, http::Responder responder, qint64 startedNs)
{
    auto read = std::make_shared<UserRead>(UserRead{campaign, userId, QByteArray::number(userId),
                                                    CampaignKeys(campaign), std::move(responder), startedNs});
    m_redis.command(
        {"ZSCORE", read->keys.pending, read->user}, [this, read](const Result<const redisReply *> &pending) {
            if (!pending)
                return m_metrics.answer(Route::User, read->responder,
                                        dependencyDown(u"redis_unavailable"_s, pending.error().message), read->started);
            userPendingRead(read, *pending);
        });
}

void ReadEndpoints::userPendingRead(const std::shared_ptr<UserRead> &read, const redisReply *pending)
{
    read->pending = pending->type != REDIS_REPLY_NIL;
    m_redis.command(
        {"SISMEMBER", read->keys.users, read->user}, [this, read](const Result<const redisReply *> &member) {
            if (!member)
                return m_metrics.answer(Route::User, read->responder,
                                        dependencyDown(u"redis_unavailable"_s, member.error().message), read->started);
            userMemberRead(read, *member);
        });
}

void ReadEndpoints::userMemberRead(const std::shared_ptr<UserRead> &read, const redisReply *member)
{
    read->reserved = replyInteger(member).value_or(0) == 1;
    // MySQL is read by one thread: past kMaxBacklog reads queued, the answer says
    // what Redis knows ("accepted" for a coupon MySQL may have already) and
    // that MySQL was not asked, instead of queueing without bound.
    if (m_db->backlog.load() > DbReader::kMaxBacklog)
        return userCouponRead(read, std::nullopt);
    ++m_db->backlog;
    QMetaObject::invokeMethod(
        m_db.get(), [this, read, db = m_db.get(), campaign = read->campaign, userId = read->userId]() mutable {
            std::optional<bool> has;
            if (CouponStore *store = db->store()) {
                Result<bool> r = store->hasCoupon(campaign, userId);
                if (r)
                    has = *r;
                else
                    db->failed(r.error());
            }
            --db->backlog;
            QMetaObject::invokeMethod(this, [this, read, has] { userCouponRead(read, has); });
        });
}

void ReadEndpoints::userCouponRead(const std::shared_ptr<UserRead> &read, std::optional<bool> hasCoupon)
{
    // issued: in MySQL. pending: reserved, Kafka's answer not in yet.
    // accepted: durable in Kafka, on its way to MySQL. none.
    QString state = u"none"_s;
    if (hasCoupon.value_or(false))
        state = u"issued"_s;
    else if (read->pending)
        state = u"pending"_s;
    else if (read->reserved)
        state = u"accepted"_s;
    QJsonObject json{{u"campaign"_s, read->campaign}, {u"userId"_s, read->userId}, {u"state"_s, state}};
    if (!hasCoupon)
        json[u"mysql"_s] = u"unavailable"_s;
    m_metrics.answer(Route::User, read->responder, http::Response::json(200, json), read->started);
}

} // namespace coupon::gateway
