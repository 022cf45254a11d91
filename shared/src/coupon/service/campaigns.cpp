#include "coupon/service/campaigns.h"

#include "coupon/base/validation.h"
#include "coupon/protocol/scripts.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QScopeGuard>
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

namespace {

QByteArray msOf(const QDateTime &t)
{
    return t.isValid() ? QByteArray::number(t.toMSecsSinceEpoch()) : QByteArray("0");
}

RedisArgs loadMetaArgs(const Campaign &c, const QByteArray &instance, bool stamp)
{
    return {QByteArray::number(c.limit),
            c.state.toLatin1(),
            msOf(c.startsAt),
            msOf(c.endsAt),
            instance,
            stamp ? QByteArray("stamp") : QByteArray("keep")};
}

// The Redis reads of one campaign's overview, pipelined with others';
// readStatus() takes their kStatusReads replies in this order.
constexpr size_t kStatusReads = 7;

void addStatusReads(std::vector<RedisArgs> &reads, const QString &id)
{
    const CampaignKeys keys(id);
    reads.push_back({"HMGET", keys.meta, "limit", "state", "instance"});
    reads.push_back({"GET", keys.count});
    reads.push_back({"SCARD", keys.users});
    reads.push_back({"ZCARD", keys.pending});
    reads.push_back({"ZRANGE", keys.pending, "0", "0", "WITHSCORES"});
    reads.push_back({"EXISTS", keys.maintenance});
    reads.push_back({"HMGET", keys.reconcile, kReconcileStepField, kReconcileSinceField, kReconcileBehindField});
}

void readStatus(CampaignOverview &s, const RedisReplyHandle *replies, const QByteArray &instance)
{
    const redisReply *meta = replies[0].get();
    if (meta->type == REDIS_REPLY_ARRAY && meta->elements == 3 && meta->element[0]->type != REDIS_REPLY_NIL) {
        s.redisLoaded = true;
        s.redisCurrent = replyString(meta->element[2]) == instance;
        s.redisLimit = replyInteger(meta->element[0]).value_or(-1);
        s.redisState = QString::fromLatin1(replyString(meta->element[1]));
    }
    s.redisCount = replyInteger(replies[1].get()).value_or(0);
    s.redisUsers = replyInteger(replies[2].get()).value_or(0);
    s.pending = replyInteger(replies[3].get()).value_or(0);
    const redisReply *oldest = replies[4].get();
    if (oldest->type == REDIS_REPLY_ARRAY && oldest->elements == 2)
        s.oldestPendingMs = replyInteger(oldest->element[1]).value_or(-1);
    s.maintenance = replyInteger(replies[5].get()).value_or(0) == 1;
    const redisReply *progress = replies[6].get();
    if (progress->type == REDIS_REPLY_ARRAY && progress->elements == 3
        && progress->element[0]->type != REDIS_REPLY_NIL) {
        s.reconcile.step = QString::fromLatin1(replyString(progress->element[0]));
        s.reconcile.sinceMs = replyInteger(progress->element[1]).value_or(-1);
        s.reconcile.behind = replyInteger(progress->element[2]).value_or(-1);
    }
}

} // namespace

Result<QByteArray> CampaignOps::instance()
{
    if (Status st = m_redis.ensureConnected(); !st)
        return st.error();
    return m_redis.instance();
}

Status CampaignOps::loadMeta(const Campaign &c, bool stamp)
{
    // Read right before the call: the connection does not reconnect between.
    Result<QByteArray> inst = instance();
    if (!inst)
        return inst.error();
    const CampaignKeys keys(c.id);
    Result<RedisReplyHandle> r = m_redis.eval(scripts::loadMeta(), {keys.meta, keys.count},
                                              loadMetaArgs(c, *inst, stamp));
    if (!r)
        return r.error();
    return Ok{};
}

Status CampaignOps::setMaintenance(const QString &id, bool on, qint64 ms)
{
    const CampaignKeys keys(id);
    Result<RedisReplyHandle> r = on ? m_redis.command({"SET", keys.maintenance, "1", "PX", QByteArray::number(ms)})
                                    : m_redis.command({"DEL", keys.maintenance});
    if (!r)
        return r.error();
    return Ok{};
}

qint64 CampaignOps::deliveryTimeoutMs()
{
    // Our own, or the longest any producer (gateway, couponctl, console)
    // announced in the last week, whichever is longer.
    qint64 longest = producerDeliveryTimeoutMs(m_settings.kafka);
    const QByteArray since = QByteArray::number(QDateTime::currentMSecsSinceEpoch() - 7 * 86400000LL);
    Result<RedisReplyHandle> r = m_redis.command({"ZRANGEBYSCORE", kDeliveryTimeoutsKey, since, "+inf"});
    if (r && (*r)->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < (*r)->elements; ++i)
            longest = std::max(longest, replyInteger((*r)->element[i]).value_or(0));
    }
    return longest;
}

bool CampaignOps::drainedPast(const QList<PartitionLag> &snapshot, const QList<PartitionLag> &now)
{
    for (const PartitionLag &target : snapshot) {
        if (target.logEnd <= target.logStart)
            continue; // nothing was ever there to drain
        bool reached = false;
        for (const PartitionLag &p : now) {
            if (p.partition == target.partition)
                reached = p.committed >= target.logEnd;
        }
        if (!reached)
            return false;
    }
    return true;
}

namespace {

// Whether whoever owns this thread asked it to stop (QThread::requestInterruption:
// the console closing or restarting its backend): a wait for the drain then
// ends at once rather than at its deadline.
bool interrupted()
{
    const QThread *thread = QThread::currentThread();
    return thread && thread->isInterruptionRequested();
}

Error interruptedError()
{
    return Error(Errc::KafkaLag, u"stopped waiting: the caller is shutting down"_s);
}

// Sleeps `ms` in short steps, false as soon as the thread is interrupted.
bool pause(qint64 ms)
{
    const QDeadlineTimer deadline(ms);
    while (!deadline.hasExpired()) {
        if (interrupted())
            return false;
        QThread::msleep(ulong(std::min<qint64>(100, std::max<qint64>(1, deadline.remainingTime()))));
    }
    return !interrupted();
}

} // namespace

qint64 CampaignOps::behind(const QList<PartitionLag> &snapshot, const QList<PartitionLag> &now)
{
    qint64 total = 0;
    for (const PartitionLag &target : snapshot) {
        if (target.logEnd <= target.logStart)
            continue;
        qint64 committed = target.logStart;
        for (const PartitionLag &p : now) {
            if (p.partition == target.partition)
                committed = std::max<qint64>(committed, p.committed);
        }
        total += std::max<qint64>(0, target.logEnd - committed);
    }
    return total;
}

Result<bool> CampaignOps::drainedPast(const QList<PartitionLag> &snapshot)
{
    Result<QList<PartitionLag>> now = lag();
    if (!now)
        return now.error();
    return drainedPast(snapshot, *now);
}

Status CampaignOps::waitForDrainPast(const QList<PartitionLag> &snapshot, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        Result<bool> drained = drainedPast(snapshot);
        if (drained && *drained)
            return Ok{};
        if (deadline.hasExpired())
            return drained ? Error(Errc::KafkaLag,
                                   u"group %1 has not drained %2 past the snapshot within %3 ms"_s
                                       .arg(m_settings.worker.group, m_settings.kafka.topic)
                                       .arg(timeoutMs))
                           : drained.error();
        if (!pause(100))
            return interruptedError();
    }
}

Status CampaignOps::reloadFromRecord(const QString &id, const QByteArray &expected)
{
    const CampaignKeys keys(id);
    for (int attempt = 0; attempt < 3; ++attempt) {
        Result<QByteArray> inst = instance();
        if (!inst)
            return inst.error();
        // WATCH first: an operator's load, close or mark, or another
        // reconciler, between here and EXEC aborts the transaction.
        Result<std::vector<RedisReplyHandle>> watched = m_redis.pipeline(
            {{"WATCH", keys.meta, keys.maintenance}, {"HGET", keys.meta, "instance"}, {"EXISTS", keys.maintenance}});
        if (!watched)
            return watched.error();
        const QByteArray stamped = replyString((*watched)[1].get());
        const bool maintenance = replyInteger((*watched)[2].get()).value_or(0) == 1;
        const bool mine = expected.isEmpty() ? stamped != *inst && !maintenance : stamped == expected;
        if (!mine) {
            (void)m_redis.command({"UNWATCH"});
            return Error(Errc::CampaignState,
                         u"campaign %1 changed under its rebuild (rebuilt or reset meanwhile)"_s.arg(id));
        }
        // The record, read after the WATCH.
        Result<Campaign> c = require(id);
        if (!c)
            return c.error();
        Result<QList<qint64>> users = m_store->couponUsers(id);
        if (!users)
            return users.error();
        // The reconciler's progress goes with the reload: stamped, nothing to show.
        std::vector<RedisArgs> tx{{"MULTI"}, {"DEL", keys.users, keys.count, keys.pending, keys.reconcile}};
        for (qsizetype i = 0; i < users->size(); i += 1000) {
            RedisArgs add{"SADD", keys.users};
            for (qsizetype j = i; j < std::min(users->size(), i + 1000); ++j)
                add.push_back(QByteArray::number(users->at(j)));
            tx.push_back(std::move(add));
        }
        tx.push_back({"SET", keys.count, QByteArray::number(users->size())});
        // EVAL, not EVALSHA: inside MULTI a NOSCRIPT could not be retried.
        RedisArgs load{"EVAL", scripts::loadMeta().source, "2", keys.meta, keys.count};
        for (QByteArray &arg : loadMetaArgs(*c, *inst, true))
            load.push_back(std::move(arg));
        tx.push_back(std::move(load));
        tx.push_back({"EXEC"});
        Result<std::vector<RedisReplyHandle>> replies = m_redis.pipeline(tx);
        if (!replies)
            return replies.error();
        const redisReply *exec = replies->back().get();
        if (exec->type == REDIS_REPLY_ARRAY)
            return Ok{};
        if (exec->type == REDIS_REPLY_ERROR)
            return Error(Errc::RedisReply, u"rebuild of %1: %2"_s.arg(id, QString::fromUtf8(replyString(exec))));
        // nil: a watched key changed; look again
    }
    return Error(Errc::RedisReply, u"rebuild of %1: its Redis state kept changing"_s.arg(id));
}

Status CampaignOps::clearRedis(const QString &id)
{
    const CampaignKeys keys(id);
    // meta first: from here applies answer not_loaded, nothing half-deleted sells.
    Result<RedisReplyHandle> r = m_redis.command({"DEL", keys.meta});
    if (!r)
        return r.error();
    r = m_redis.command({"DEL", keys.users, keys.count, keys.pending, keys.reconcile});
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
    return loadMeta(c, true);
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
    return loadMeta(*c, false);
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
    return loadMeta(*c, false);
}

Result<QList<PartitionLag>> CampaignOps::barrier()
{
    return appendBarriers(m_settings, QCoreApplication::applicationName().toUtf8(), int(deliveryTimeoutMs()) + 30000);
}

Status CampaignOps::waitForRecord(int drainTimeoutMs)
{
    // A reservation made before now may still have its message on the way:
    // wait out the delivery timeout, then for the worker to drain past a
    // barrier written then (past the topic's end as it is then would miss
    // a message a leader holds uncommitted).
    if (!pause(deliveryTimeoutMs() + 500))
        return interruptedError();
    Result<QList<PartitionLag>> snapshot = barrier();
    if (!snapshot)
        return snapshot.error();
    return waitForDrainPast(*snapshot, drainTimeoutMs);
}

Status CampaignOps::reset(const QString &id, int drainTimeoutMs)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    if (Status st = setMaintenance(id, true, deliveryTimeoutMs() + drainTimeoutMs + 30000); !st)
        return st;
    auto done = qScopeGuard([&] { (void)setMaintenance(id, false); });
    if (Status st = clearRedis(id); !st)
        return st;
    if (Status st = waitForRecord(drainTimeoutMs); !st) {
        Error error = st.error();
        error.message
            += u" (campaign %1 now answers reconciling; run reset again once a worker drained the topic)"_s.arg(id);
        return error;
    }
    if (Status st = m_store->resetCampaign(id); !st)
        return st;
    c->issued = 0;
    if (Status st = clearRedis(id); !st) // anything a late apply reserved meanwhile
        return st;
    return loadMeta(*c, true);
}

Status CampaignOps::rebuild(const QString &id, int drainTimeoutMs)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    if (Status st = setMaintenance(id, true, deliveryTimeoutMs() + drainTimeoutMs + 30000); !st)
        return st;
    auto done = qScopeGuard([&] { (void)setMaintenance(id, false); });
    // From here applies answer reconciling: the meta names no Redis
    // instance, but this rebuild's token, which only it reloads over.
    const QByteArray token = "rebuilding:" + QByteArray::number(QRandomGenerator::system()->generate64(), 36);
    Result<RedisReplyHandle> unstamped = m_redis.command({"HSET", CampaignKeys(id).meta, "instance", token});
    if (!unstamped)
        return unstamped.error();
    if (Status st = waitForRecord(drainTimeoutMs); !st)
        return st;
    return reloadFromRecord(id, token);
}

Result<CampaignOverview> CampaignOps::status(const QString &id)
{
    Result<Campaign> c = require(id);
    if (!c)
        return c.error();
    CampaignOverview s;
    s.campaign = *c;
    Result<QByteArray> inst = instance();
    if (!inst)
        return inst.error();
    std::vector<RedisArgs> reads;
    addStatusReads(reads, id);
    Result<std::vector<RedisReplyHandle>> replies = m_redis.pipeline(reads);
    if (!replies)
        return replies.error();
    readStatus(s, replies->data(), *inst);
    Result<qint64> coupons = m_store->couponCount(id);
    if (!coupons)
        return coupons.error();
    s.coupons = *coupons;
    Result<qint64> failed = m_store->failedEventCount(id);
    if (!failed)
        return failed.error();
    s.failedEvents = *failed;
    Result<qint64> unresolved = m_store->unresolvedFailedEvents(id);
    if (!unresolved)
        return unresolved.error();
    s.unresolvedFailedEvents = *unresolved;
    if (Result<QList<PartitionLag>> l = lag())
        s.topicLag = LagProbe::total(*l);
    return s;
}

Result<CampaignsOverview> CampaignOps::overview()
{
    Result<QList<Campaign>> all = m_store->campaigns();
    if (!all)
        return all.error();
    Result<QHash<QString, qint64>> unresolved = m_store->unresolvedFailedEventsByCampaign();
    if (!unresolved)
        return unresolved.error();
    Result<QByteArray> inst = instance();
    if (!inst)
        return inst.error();
    std::vector<RedisArgs> reads{{"TIME"}};
    reads.reserve(1 + kStatusReads * size_t(all->size()));
    for (const Campaign &c : *all)
        addStatusReads(reads, c.id);
    Result<std::vector<RedisReplyHandle>> replies = m_redis.pipeline(reads);
    if (!replies)
        return replies.error();
    const std::optional<qint64> now = replyTimeMs((*replies)[0].get());
    if (!now)
        return Error(Errc::RedisProtocol, u"TIME: unexpected reply"_s);
    CampaignsOverview o;
    o.redisNowMs = *now;
    o.campaigns.reserve(all->size());
    for (qsizetype i = 0; i < all->size(); ++i) {
        CampaignOverview s;
        s.campaign = all->at(i);
        s.coupons = -1;
        s.failedEvents = -1;
        readStatus(s, replies->data() + 1 + kStatusReads * size_t(i), *inst);
        s.unresolvedFailedEvents = unresolved->value(s.campaign.id, 0);
        o.campaigns.append(std::move(s));
    }
    o.deliveryTimeoutMs = deliveryTimeoutMs();
    if (Result<QList<PartitionLag>> l = lag())
        o.topicLag = LagProbe::total(*l);
    else
        o.lagError = l.error().message;
    return o;
}

Result<PendingPage> CampaignOps::pendingReservations(const QString &id, qint64 offset, int count)
{
    if (!isValidCampaignId(id))
        return Error(Errc::CampaignInvalid, u"campaign id \"%1\" must match %2"_s.arg(id, campaignIdPattern()));
    if (offset < 0 || count < 1)
        return Error(Errc::CampaignInvalid, u"reservations %1 to %2: no such range"_s.arg(offset).arg(offset + count));
    if (Status st = m_redis.ensureConnected(); !st)
        return st.error();
    const CampaignKeys keys(id);
    Result<std::vector<RedisReplyHandle>> replies = m_redis.pipeline({
        {"TIME"},
        {"ZCARD", keys.pending},
        {"ZRANGE", keys.pending, QByteArray::number(offset), QByteArray::number(offset + count - 1), "WITHSCORES"},
    });
    if (!replies)
        return replies.error();
    const std::optional<qint64> now = replyTimeMs((*replies)[0].get());
    if (!now)
        return Error(Errc::RedisProtocol, u"TIME: unexpected reply"_s);
    PendingPage page;
    page.redisNowMs = *now;
    page.total = replyInteger((*replies)[1].get()).value_or(0);
    const redisReply *range = (*replies)[2].get();
    if (range->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < range->elements; i += 2)
            page.reservations.append(
                {replyString(range->element[i]).toLongLong(), replyInteger(range->element[i + 1]).value_or(0)});
    }
    return page;
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
        if (!pause(100))
            return interruptedError();
    }
}

Result<qint64> CampaignOps::redisNowMs()
{
    Result<RedisReplyHandle> time = m_redis.command({"TIME"});
    if (!time)
        return time.error();
    const std::optional<qint64> ms = replyTimeMs(time->get());
    if (!ms)
        return Error(Errc::RedisProtocol, u"TIME: unexpected reply"_s);
    return *ms;
}

qint64 CampaignOps::settleGraceMs(qint64 requestedMs)
{
    return std::max(requestedMs, deliveryTimeoutMs() + 1000);
}

Result<SettleReport> CampaignOps::settle(const QString &id, qint64 graceMs, int drainTimeoutMs)
{
    const qint64 grace = settleGraceMs(graceMs);
    // Pending scores are Redis' clock: compare them with Redis' clock.
    Result<qint64> now = redisNowMs();
    if (!now)
        return now.error();
    // Every message of a reservation older than the cutoff was persisted or
    // failed before now: once the group has committed past the topic's end
    // as it is now, a coupon that is not in MySQL never will be.
    bool drained = false;
    if (Result<QList<PartitionLag>> snapshot = topicSnapshot())
        drained = waitForDrainPast(*snapshot, drainTimeoutMs).ok();
    Result<SettleReport> report = settleUpTo(id, *now - grace, drained);
    if (report)
        report->graceMs = grace;
    return report;
}

Result<SettleReport> CampaignOps::settleUpTo(const QString &id, qint64 cutoffMs, bool drainedPastCutoff)
{
    const CampaignKeys keys(id);
    SettleReport report;
    Result<QByteArray> inst = instance();
    if (!inst)
        return inst.error();
    const QByteArray cutoff = QByteArray::number(cutoffMs);
    Result<std::vector<RedisReplyHandle>> read = m_redis.pipeline({
        {"ZRANGEBYSCORE", keys.pending, "-inf", cutoff, "WITHSCORES", "LIMIT", "0", "1000"},
        {"ZCOUNT", keys.pending, "(" + cutoff, "+inf"},
    });
    if (!read)
        return read.error();
    const redisReply *old = (*read)[0].get();
    report.young = replyInteger((*read)[1].get()).value_or(0);
    if (old->type != REDIS_REPLY_ARRAY)
        return report;
    for (size_t i = 0; i + 1 < old->elements; i += 2) {
        const QByteArray user = replyString(old->element[i]);
        const QByteArray score = replyString(old->element[i + 1]);
        Result<bool> has = m_store->hasCoupon(id, user.toLongLong());
        if (!has)
            return has.error();
        if (*has) {
            if (Result<RedisReplyHandle> r = m_redis.command({"ZREM", keys.pending, user}); !r)
                return r.error();
            ++report.confirmed;
        } else if (drainedPastCutoff) {
            // Only this reservation (instance and score): never a later one.
            Result<RedisReplyHandle> r = m_redis.eval(scripts::release(), keys.all(), {user, *inst, score});
            if (!r)
                return r.error();
            if (replyInteger(r->get()).value_or(0) == 1)
                ++report.released;
            else if (replyInteger(r->get()).value_or(0) < 0)
                ++report.waiting; // Redis changed under it: the reconciler rebuilds the campaign
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
        if (!pause(100))
            return interruptedError();
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
    Result<qint64> unresolved = m_store->unresolvedFailedEvents(id);
    if (!unresolved)
        return unresolved.error();
    Result<qint64> unattributed = m_store->unresolvedFailedEvents(QString());
    if (!unattributed)
        return unattributed.error();
    report.unresolvedFailedEvents = *unresolved;
    report.unattributedFailedEvents = *unattributed;
    if (*unresolved > 0)
        report.notes
            << u"%1 unresolved failed event(s) of %2: couponctl failed list --campaign %2"_s.arg(*unresolved).arg(id);
    if (*unattributed > 0)
        report.notes << u"%1 unresolved failed event(s) of no campaign: couponctl failed list"_s.arg(*unattributed);
    report.summary = u"%1 issued of %2 · %3 duplicates · %4 lost · %5 stray · %6 pending"_s.arg(s->coupons)
                         .arg(c.limit)
                         .arg(*dups)
                         .arg(lost)
                         .arg(stray)
                         .arg(s->pending);
    return report;
}

} // namespace coupon
