#include "coupon/service/reconciler.h"

#include "coupon/protocol/scripts.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHostInfo>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSet>
#include <QThread>

#include <algorithm>
#include <optional>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcReconciler, "coupon.reconciler")

namespace coupon {

namespace {

constexpr char kLeaseKey[] = "coupon:reconciler";

} // namespace

Reconciler::Reconciler(const Settings &settings)
    : m_settings(settings)
    , m_ops(settings, u"coupon-reconciler"_s)
    , m_id(QHostInfo::localHostName().toUtf8() + ':' + QByteArray::number(QCoreApplication::applicationPid()) + ':'
           + QByteArray::number(QRandomGenerator::system()->generate64(), 36))
{ }

Reconciler::~Reconciler() = default;

Result<bool> Reconciler::lead()
{
    // A lease three intervals long (at least 3 s), renewed every pass: a
    // worker that dies hands over within that.
    const int leaseMs = std::max(3000, 3 * m_settings.worker.reconcileIntervalMs);
    Result<RedisReplyHandle> r = m_ops.redis().eval(scripts::lease(), {kLeaseKey}, {m_id, QByteArray::number(leaseMs)});
    if (!r)
        return r.error();
    const bool leading = replyInteger(r->get()).value_or(0) == 1;
    if (leading != m_leading)
        qCInfo(lcReconciler, leading ? "reconciling as %s" : "%s no longer reconciles (another worker does)",
               m_id.constData());
    m_leading = leading;
    return leading;
}

Status Reconciler::pass()
{
    if (!m_connected) {
        if (Status st = m_ops.connect(); !st)
            return st;
        m_connected = true;
    }
    Result<bool> leading = lead();
    if (!leading)
        return leading.error();
    m_stats.leading.store(*leading);
    if (!*leading) {
        m_stale.clear();
        m_oldestPending.clear();
        m_stats.reconciling.store(0);
        m_stats.reconcilingOldestMs.store(0);
        m_stats.pendingOldestAgeMs.store(0);
        return Ok{};
    }

    Result<QList<Campaign>> all = m_ops.list();
    if (!all)
        return all.error();
    // Open campaigns every pass; closed ones (they sell nothing, whatever
    // Redis holds) every 20th, so a long history costs Redis little.
    const bool everyCampaign = m_passes++ % 20 == 0;
    QList<Campaign> campaigns;
    QSet<QString> exist;
    for (const Campaign &c : *all) {
        exist.insert(c.id);
        if (everyCampaign || c.state == u"open"_s)
            campaigns.append(c);
    }
    Result<QByteArray> instance = m_ops.instance();
    if (!instance)
        return instance.error();
    std::vector<RedisArgs> reads{{"TIME"}};
    for (const Campaign &c : campaigns) {
        const CampaignKeys keys(c.id);
        reads.push_back({"HMGET", keys.meta, "limit", "instance"});
        reads.push_back({"EXISTS", keys.maintenance});
        reads.push_back({"ZRANGE", keys.pending, "0", "0", "WITHSCORES"});
    }
    Result<std::vector<RedisReplyHandle>> replies = m_ops.redis().pipeline(reads);
    if (!replies)
        return replies.error();
    const std::optional<qint64> now = replyTimeMs((*replies)[0].get());
    if (!now)
        return Error(Errc::RedisProtocol, u"TIME: unexpected reply"_s);
    const qint64 redisNowMs = *now;
    // Both waits from one reading of the longest delivery timeout announced;
    // the grace never below it (CampaignOps::settleGraceMs, without a second read).
    const qint64 deliveryMs = m_ops.deliveryTimeoutMs();
    const qint64 graceMs = std::max(m_settings.worker.settleGraceMs, deliveryMs + 1000);

    QHash<QString, bool> notCurrent; // campaign -> under an operator's maintenance
    QList<QString> withDuePending;
    for (qsizetype i = 0; i < campaigns.size(); ++i) {
        const Campaign &c = campaigns.at(i);
        const redisReply *meta = (*replies)[1 + 3 * size_t(i)].get();
        const bool maintenance = replyInteger((*replies)[2 + 3 * size_t(i)].get()).value_or(0) == 1;
        const redisReply *oldest = (*replies)[3 + 3 * size_t(i)].get();
        const bool present = meta->type == REDIS_REPLY_ARRAY && meta->elements == 2
            && meta->element[0]->type != REDIS_REPLY_NIL;
        const bool current = present && replyString(meta->element[1]) == *instance;
        if (oldest->type == REDIS_REPLY_ARRAY && oldest->elements == 2)
            m_oldestPending.insert(c.id, replyInteger(oldest->element[1]).value_or(redisNowMs));
        else
            m_oldestPending.remove(c.id);
        // A closed campaign Redis lost altogether sells nothing (the gateway
        // answers from MySQL's state); every other one not current must be
        // rebuilt before it decides again.
        if (!current && (present || c.state == u"open"_s))
            notCurrent.insert(c.id, maintenance);
        else if (current && oldest->type == REDIS_REPLY_ARRAY && oldest->elements == 2
                 && replyInteger(oldest->element[1]).value_or(redisNowMs) <= redisNowMs - graceMs)
            withDuePending << c.id;
    }

    // Forget what became current (an operator, another reconciler) or is gone.
    QSet<QString> examined;
    for (const Campaign &c : campaigns)
        examined.insert(c.id);
    for (auto it = m_stale.begin(); it != m_stale.end();) {
        const bool seen = examined.contains(it.key());
        it = (!exist.contains(it.key()) || (seen && !notCurrent.contains(it.key()))) ? m_stale.erase(it)
                                                                                     : std::next(it);
    }

    qint64 oldestPendingMs = redisNowMs;
    for (auto it = m_oldestPending.begin(); it != m_oldestPending.end();) {
        if (!exist.contains(it.key())) {
            it = m_oldestPending.erase(it);
            continue;
        }
        oldestPendingMs = std::min(oldestPendingMs, it.value());
        ++it;
    }
    m_stats.pendingOldestAgeMs.store(std::max<qint64>(0, redisNowMs - oldestPendingMs));
    m_stats.graceMs.store(graceMs);

    const qint64 waitMs = deliveryMs + 500;
    // One snapshot and one look at the group's offsets per pass, shared.
    std::optional<QList<PartitionLag>> snapshot, offsets;
    // The "end" is a barrier written now, not the high watermark: a message
    // a leader holds uncommitted (a stalled in-sync follower) lies before
    // the barrier and is consumed before the group passes it.
    auto topicEnd = [&]() -> const std::optional<QList<PartitionLag>> & {
        if (!snapshot) {
            QElapsedTimer took;
            took.start();
            Result<QList<PartitionLag>> s = m_ops.barrier();
            m_stats.barrierLastMs.store(took.elapsed());
            if (s) {
                snapshot = *s;
                m_stats.barriers.fetch_add(1);
            } else {
                m_stats.barrierErrors.fetch_add(1);
                qCWarning(lcReconciler, "barrier: %s", qPrintable(s.error().message));
            }
        }
        return snapshot;
    };
    auto drainedPast = [&](const QList<PartitionLag> &target) {
        if (!offsets) {
            if (Result<QList<PartitionLag>> now = m_ops.topicSnapshot())
                offsets = *now;
            else
                return false;
        }
        return CampaignOps::drainedPast(target, *offsets);
    };

    // What the console shows of a rebuild (CampaignKeys::reconcile): written
    // before each step that may wait, with a lease as long as that wait plus
    // the reconciler's own, so a reconciler that dies leaves nothing stale.
    // reloadFromRecord() deletes it in the transaction that stamps the meta.
    const qint64 publishLeaseMs = std::max(3000, 3 * m_settings.worker.reconcileIntervalMs);
    auto publish = [&](const QString &campaign, const Stale &stale, const char *step, qint64 behind = -1,
                       qint64 waitMs = 0) {
        const CampaignKeys keys(campaign);
        Result<std::vector<RedisReplyHandle>> written = m_ops.redis().pipeline(
            {{"HSET", keys.reconcile, kReconcileStepField, step, kReconcileSinceField,
              QByteArray::number(stale.sinceRedisMs), kReconcileBehindField, QByteArray::number(behind)},
             {"PEXPIRE", keys.reconcile, QByteArray::number(publishLeaseMs + waitMs)}});
        if (!written)
            qCWarning(lcReconciler, "campaign %s: progress: %s", qPrintable(campaign),
                      qPrintable(written.error().message));
    };

    for (auto it = notCurrent.cbegin(); it != notCurrent.cend(); ++it) {
        if (it.value())
            continue; // an operator's reset or rebuild has it
        auto found = m_stale.find(it.key());
        if (found == m_stale.end()) {
            qCWarning(lcReconciler,
                      "campaign %s: Redis may have lost its writes (not stamped by this Redis); answering "
                      "reconciling, rebuilding from MySQL once the topic is drained in %lld ms",
                      qPrintable(it.key()), static_cast<long long>(waitMs));
            found = m_stale.insert(it.key(), Stale{});
            found->since.start();
            found->sinceRedisMs = redisNowMs;
            publish(it.key(), *found, kReconcileStepDelivery, -1, waitMs);
            continue;
        }
        if (found->since.elapsed() < waitMs) {
            publish(it.key(), *found, kReconcileStepDelivery, -1, waitMs - found->since.elapsed());
            continue;
        }
        if (!found->snapshot) {
            // Every produce begun before we saw it has an answer by now: the
            // topic's end now covers all of them. The barrier may wait up to
            // the delivery timeout + 30 s (CampaignOps::barrier).
            publish(it.key(), *found, kReconcileStepBarrier, -1, deliveryMs + 30000);
            found->snapshot = topicEnd();
            if (!found->snapshot)
                continue;
        }
        if (!drainedPast(*found->snapshot)) {
            publish(it.key(), *found, kReconcileStepDrain,
                    offsets ? CampaignOps::behind(*found->snapshot, *offsets) : -1);
            continue;
        }
        Result<bool> still = lead(); // a long pass must not outlive the lease
        if (!still || !*still)
            return still ? Status(Ok{}) : Status(still.error());
        publish(it.key(), *found, kReconcileStepReload);
        if (Status st = m_ops.reloadFromRecord(it.key()); !st) {
            if (st.error().is(Errc::CampaignState)) {
                qCInfo(lcReconciler, "campaign %s: rebuilt or reset by someone else meanwhile", qPrintable(it.key()));
                m_stale.erase(found);
            } else {
                qCWarning(lcReconciler, "campaign %s: rebuild: %s", qPrintable(it.key()),
                          qPrintable(st.error().message));
            }
            continue;
        }
        qCInfo(lcReconciler, "campaign %s: rebuilt from MySQL after %lld ms; deciding again", qPrintable(it.key()),
               static_cast<long long>(found->since.elapsed()));
        m_stale.erase(found);
    }

    qint64 reconcilingOldestMs = 0;
    for (const Stale &stale : std::as_const(m_stale))
        reconcilingOldestMs = std::max(reconcilingOldestMs, stale.since.elapsed());
    m_stats.reconciling.store(int(notCurrent.size()));
    m_stats.reconcilingOldestMs.store(reconcilingOldestMs);

    // Settlement in rounds: a cutoff (Redis ms) and the topic's end taken
    // then; once the group has drained past it, everything pending up to the
    // cutoff is settled. Nothing here waits.
    if (!m_round && !withDuePending.isEmpty()) {
        if (const std::optional<QList<PartitionLag>> &end = topicEnd())
            m_round = SettleRound{*end, redisNowMs - graceMs};
        return Ok{};
    }
    if (!m_round || !drainedPast(m_round->snapshot))
        return Ok{};
    const SettleRound round = *m_round;
    m_round.reset();
    return settleDue(withDuePending, round.cutoffMs);
}

Status Reconciler::settleDue(const QList<QString> &withPending, qint64 cutoffMs)
{
    for (const QString &campaign : withPending) {
        Result<bool> still = lead(); // a long pass must not outlive the lease
        if (!still)
            return still.error();
        if (!*still)
            return Ok{};
        Result<SettleReport> r = m_ops.settleUpTo(campaign, cutoffMs, true);
        if (!r)
            return r.error();
        if (r->released > 0 || r->confirmed > 0)
            qCInfo(lcReconciler,
                   "campaign %s: settled pending reservations made before the cutoff: %lld confirmed, %lld released, "
                   "%lld waiting",
                   qPrintable(campaign), static_cast<long long>(r->confirmed), static_cast<long long>(r->released),
                   static_cast<long long>(r->waiting));
    }
    return Ok{};
}

void Reconciler::run(const std::atomic<bool> &stop)
{
    QString lastError;
    while (!stop.load()) {
        const Status st = pass();
        if (!st) {
            m_stats.errors.fetch_add(1, std::memory_order_relaxed);
            m_connected = m_connected && !st.error().is(Errc::MysqlConnection);
            if (st.error().message != lastError)
                qCWarning(lcReconciler, "%s (retrying)", qPrintable(st.error().message));
            lastError = st.error().message;
        } else {
            lastError.clear();
        }
        for (int waited = 0; waited < m_settings.worker.reconcileIntervalMs && !stop.load(); waited += 20)
            QThread::msleep(20);
    }
    if (m_leading)
        (void)m_ops.redis().eval(scripts::unlease(), {kLeaseKey}, {m_id});
}

} // namespace coupon
