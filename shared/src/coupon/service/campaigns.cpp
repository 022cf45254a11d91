#include "coupon/service/campaigns.h"

#include "coupon/base/validation.h"
#include "coupon/protocol/scripts.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QThread>

using namespace Qt::StringLiterals;

namespace coupon {

CampaignOps::CampaignOps(const Settings &settings, const QString &connectionName)
    : m_settings(settings)
    , m_store(std::make_unique<CouponStore>(settings.mysql, connectionName))
    , m_redis(settings.redis)
{ }

CampaignOps::~CampaignOps() = default;

Status CampaignOps::connect()
{
    if (Status st = m_store->open(); !st)
        return st;
    if (Status st = m_store->migrate(); !st)
        return st;
    return m_redis.connect();
}

Result<Campaign> CampaignOps::require(const QString &id)
{
    if (!isValidCampaignId(id))
        return Error(Errc::CampaignInvalid, u"campaign id \"%1\" must match %2"_s.arg(id, campaignIdPattern()));
    Result<std::optional<Campaign>> found = m_store->campaign(id);
    if (!found)
        return found.error();
    if (!found.value())
        return Error(Errc::CampaignUnknown, u"no campaign %1"_s.arg(id));
    return *found.value();
}

Status CampaignOps::loadMeta(const Campaign &c)
{
    const CampaignKeys keys(c.id);
    auto ms = [](const QDateTime &t) {
        return t.isValid() ? QByteArray::number(t.toMSecsSinceEpoch()) : QByteArray("0");
    };
    Result<RedisReplyHandle> r = m_redis.eval(
        scripts::loadMeta(), {keys.meta, keys.count},
        {QByteArray::number(c.limit), c.state.toLatin1(), ms(c.startsAt), ms(c.endsAt)});
    if (!r)
        return r.error();
    return Ok{};
}

Status CampaignOps::clearRedis(const QString &id)
{
    const CampaignKeys keys(id);
    // meta first: from here applies answer not_loaded, nothing half-deleted sells.
    Result<RedisReplyHandle> r = m_redis.command({"DEL", keys.meta});
    if (!r)
        return r.error();
    r = m_redis.command({"DEL", keys.users, keys.count, keys.pending});
    if (!r)
        return r.error();
    return Ok{};
}

Status CampaignOps::create(const Campaign &spec)
{
    if (!isValidCampaignId(spec.id))
        return Error(Errc::CampaignInvalid, u"campaign id \"%1\" must match %2"_s.arg(spec.id, campaignIdPattern()));
    if (spec.limit < 0)
        return Error(Errc::CampaignInvalid, u"limit %1 must be 0 or more"_s.arg(spec.limit));
    if (spec.startsAt.isValid() && spec.endsAt.isValid() && spec.endsAt <= spec.startsAt)
        return Error(Errc::CampaignInvalid, u"the window must end after it starts"_s);
    Campaign c = spec;
    if (c.name.isEmpty())
        c.name = c.id;
    if (c.state.isEmpty())
        c.state = u"closed"_s;
    if (Status st = m_store->createCampaign(c); !st)
        return st;
    // Leftovers of an earlier campaign with this id must not leak into it.
    if (Status st = clearRedis(c.id); !st)
        return st;
    return loadMeta(c);
}

Status CampaignOps::open(const QString &id)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    if (Status st = m_store->setState(id, u"open"_s); !st)
        return st;
    c->state = u"open"_s;
    // A meta without its limit is not ours: Redis lost the campaign (whatever
    // wrote a field since). Rebuild from the drained topic and MySQL, never
    // sell again from zero; coupons may be on their way even while issued is 0.
    Result<RedisReplyHandle> loaded = m_redis.command({"HEXISTS", CampaignKeys(id).meta, "limit"});
    if (!loaded)
        return loaded.error();
    if (replyInteger(loaded->get()).value_or(0) == 0)
        return rebuild(id, 60000);
    return loadMeta(*c);
}

Status CampaignOps::close(const QString &id)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    if (Status st = m_store->setState(id, u"closed"_s); !st)
        return st;
    // Only a meta Redis still has: a lone `state` field would pass for a
    // loaded campaign later (open() would then sell again from zero).
    const CampaignKeys keys(id);
    Result<RedisReplyHandle> loaded = m_redis.command({"HEXISTS", keys.meta, "limit"});
    if (!loaded)
        return loaded.error();
    if (replyInteger(loaded->get()).value_or(0) == 0)
        return Ok{}; // nothing to close in Redis: applies answer not_loaded already
    Result<RedisReplyHandle> r = m_redis.command({"HSET", keys.meta, "state", "closed"});
    if (!r)
        return r.error();
    return Ok{};
}

Status CampaignOps::setLimit(const QString &id, qint64 limit)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    if (c->state != u"closed"_s)
        return Error(Errc::CampaignState, u"close campaign %1 before changing its limit"_s.arg(id));
    if (limit < c->issued)
        return Error(Errc::CampaignInvalid,
                     u"limit %1 is below the %2 coupons already issued"_s.arg(limit).arg(c->issued));
    if (Status st = m_store->setLimit(id, limit); !st)
        return st;
    c->limit = limit;
    return loadMeta(*c);
}

Status CampaignOps::reset(const QString &id, int drainTimeoutMs)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    if (Status st = clearRedis(id); !st)
        return st;
    if (Status st = waitForDrain(drainTimeoutMs); !st) {
        Error error = st.error();
        error.message
            += u" (campaign %1 now answers not_loaded; run reset again once a worker drained the topic)"_s.arg(id);
        return error;
    }
    if (Status st = m_store->resetCampaign(id); !st)
        return st;
    c->issued = 0;
    if (Status st = clearRedis(id); !st) // anything a late apply reserved meanwhile
        return st;
    return loadMeta(*c);
}

Status CampaignOps::rebuild(const QString &id, int drainTimeoutMs)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    if (Status st = clearRedis(id); !st)
        return st;
    if (Status st = waitForDrain(drainTimeoutMs); !st)
        return st;
    Result<QList<qint64>> users = m_store->couponUsers(id);
    if (!users)
        return users.error();
    const CampaignKeys keys(id);
    for (qsizetype i = 0; i < users->size(); i += 1000) {
        RedisArgs add{"SADD", keys.users};
        for (qsizetype j = i; j < std::min(users->size(), i + 1000); ++j)
            add.push_back(QByteArray::number(users->at(j)));
        if (Result<RedisReplyHandle> r = m_redis.command(add); !r)
            return r.error();
    }
    if (Result<RedisReplyHandle> r = m_redis.command({"SET", keys.count, QByteArray::number(users->size())}); !r)
        return r.error();
    Result<std::optional<Campaign>> fresh = m_store->campaign(id);
    if (!fresh)
        return fresh.error();
    return loadMeta(fresh.value().value_or(*c));
}

Result<CampaignOverview> CampaignOps::status(const QString &id)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    CampaignOverview s;
    s.campaign = *c;
    const CampaignKeys keys(id);
    Result<std::vector<RedisReplyHandle>> replies = m_redis.pipeline({
        {"HMGET", keys.meta, "limit", "state"},
        {"GET", keys.count},
        {"SCARD", keys.users},
        {"ZCARD", keys.pending},
    });
    if (!replies)
        return replies.error();
    const redisReply *meta = (*replies)[0].get();
    if (meta->type == REDIS_REPLY_ARRAY && meta->elements == 2 && meta->element[0]->type != REDIS_REPLY_NIL) {
        s.redisLoaded = true;
        s.redisLimit = replyInteger(meta->element[0]).value_or(-1);
        s.redisState = QString::fromLatin1(replyString(meta->element[1]));
    }
    s.redisCount = replyInteger((*replies)[1].get()).value_or(0);
    s.redisUsers = replyInteger((*replies)[2].get()).value_or(0);
    s.pending = replyInteger((*replies)[3].get()).value_or(0);
    Result<qint64> coupons = m_store->couponCount(id);
    if (!coupons)
        return coupons.error();
    s.coupons = *coupons;
    Result<qint64> failed = m_store->failedEventCount(id);
    if (!failed)
        return failed.error();
    s.failedEvents = *failed;
    if (Result<QList<PartitionLag>> l = lag())
        s.topicLag = LagProbe::total(*l);
    return s;
}

Result<QList<PartitionLag>> CampaignOps::lag()
{
    if (!m_lag) {
        Result<std::unique_ptr<LagProbe>> probe = LagProbe::create(m_settings, m_settings.worker.group);
        if (!probe)
            return probe.error();
        m_lag = std::move(probe).value();
    }
    return m_lag->query();
}

Status CampaignOps::waitForDrain(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    Error last(Errc::KafkaLag, u"no answer"_s);
    for (;;) {
        Result<QList<PartitionLag>> l = lag();
        if (l && LagProbe::total(*l) == 0)
            return Ok{};
        last = l ? Error(Errc::KafkaLag,
                         u"group %1 still lags %2 message(s) on %3"_s.arg(m_settings.worker.group)
                             .arg(LagProbe::total(*l))
                             .arg(m_settings.kafka.topic))
                 : l.error();
        if (deadline.hasExpired()) {
            last.message = u"not drained within %1 ms: "_s.arg(timeoutMs) + last.message;
            return last;
        }
        QThread::msleep(100);
    }
}

Result<SettleReport> CampaignOps::settle(const QString &id, qint64 graceMs)
{
    const CampaignKeys keys(id);
    const qint64 cutoff = QDateTime::currentMSecsSinceEpoch() - graceMs;
    Result<RedisReplyHandle> old = m_redis.command({"ZRANGEBYSCORE", keys.pending, "-inf", QByteArray::number(cutoff)});
    if (!old)
        return old.error();
    SettleReport report;
    if ((*old)->elements == 0)
        return report;
    Result<QList<PartitionLag>> l = lag();
    const bool drained = l && LagProbe::total(*l) == 0;
    for (size_t i = 0; i < (*old)->elements; ++i) {
        const QByteArray user = replyString((*old)->element[i]);
        Result<bool> has = m_store->hasCoupon(id, user.toLongLong());
        if (!has)
            return has.error();
        if (*has) {
            if (Result<RedisReplyHandle> r = m_redis.command({"ZREM", keys.pending, user}); !r)
                return r.error();
            ++report.confirmed;
        } else if (drained) {
            Result<RedisReplyHandle> r = m_redis.eval(scripts::release(), keys.all(), {user});
            if (!r)
                return r.error();
            ++report.released;
        } else {
            ++report.waiting;
        }
    }
    return report;
}

Result<AuditReport> CampaignOps::audit(const QString &id, int timeoutMs, const AnsweredApplies *answered)
{
    const QDeadlineTimer deadline(timeoutMs);
    if (Status st = waitForDrain(timeoutMs); !st)
        return st.error();
    // Pending marks vanish as delivery reports come back; older ones than a
    // producer's delivery timeout can only be settled against MySQL.
    constexpr qint64 kGraceMs = 15000;
    Result<CampaignOverview> s = status(id);
    for (;;) {
        if (!s)
            return s.error();
        if (s->pending == 0 || deadline.hasExpired())
            break;
        if (Result<SettleReport> settled = settle(id, kGraceMs); !settled)
            return settled.error();
        QThread::msleep(100);
        if (Status st = waitForDrain(int(std::max<qint64>(1000, deadline.remainingTime()))); !st)
            return st.error();
        s = status(id);
    }

    AuditReport report;
    report.status = *s;
    const Campaign &c = s->campaign;
    Result<QList<qint64>> holderList = m_store->couponUsers(id);
    if (!holderList)
        return holderList.error();
    const QSet<qint64> holders(holderList->cbegin(), holderList->cend());
    Result<qint64> dups = m_store->duplicateHolders(id);
    if (!dups)
        return dups.error();
    Result<RedisReplyHandle> members = m_redis.command({"SMEMBERS", CampaignKeys(id).users});
    if (!members)
        return members.error();
    QSet<qint64> redisUsers;
    for (size_t i = 0; i < (*members)->elements; ++i)
        redisUsers.insert(replyString((*members)->element[i]).toLongLong());

    // 1. never more than the limit
    if (s->coupons > c.limit)
        report.violations << u"1: %1 coupons for a limit of %2"_s.arg(s->coupons).arg(c.limit);
    if (c.issued != s->coupons)
        report.violations << u"1: campaign.issued says %1 but %2 coupon rows exist"_s.arg(c.issued).arg(s->coupons);
    // 2. one per user
    if (*dups > 0)
        report.violations << u"2: %1 user(s) hold more than one coupon"_s.arg(*dups);
    // 3. accepted -> coupon; 4. rejected -> no coupon
    const QSet<qint64> &promised = answered ? answered->accepted : redisUsers;
    qint64 lost = 0, stray = 0;
    for (const qint64 user : promised)
        lost += holders.contains(user) ? 0 : 1;
    if (answered) {
        for (const qint64 user : answered->rejected)
            stray += holders.contains(user) ? 1 : 0;
    } else {
        for (const qint64 user : holders)
            stray += redisUsers.contains(user) ? 0 : 1;
    }
    if (lost > 0)
        report.violations << u"3: %1 accepted apply(s) without a coupon"_s.arg(lost);
    if (stray > 0)
        report.violations << u"4: %1 coupon(s) for applies that were not accepted"_s.arg(stray);
    // 5. drained and settled: all counts agree, nothing pending
    if (!(s->coupons == s->redisCount && s->redisCount == s->redisUsers && s->pending == 0))
        report.violations << u"5: MySQL %1, Redis count %2, users %3, pending %4"_s.arg(s->coupons)
                                 .arg(s->redisCount)
                                 .arg(s->redisUsers)
                                 .arg(s->pending);
    report.ok = report.violations.isEmpty();
    report.summary = u"%1 issued of %2 · %3 duplicates · %4 lost · %5 stray · %6 pending"_s.arg(s->coupons)
                         .arg(c.limit)
                         .arg(*dups)
                         .arg(lost)
                         .arg(stray)
                         .arg(s->pending);
    return report;
}

} // namespace coupon
