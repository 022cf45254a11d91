#include "coupon/soldout_memo.h"

#include "coupon/redis.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <limits>
#include <mutex>

namespace coupon {

namespace {

// How close to a window edge (by Redis' clock, estimated) the memo leaves
// the answer to the apply script.
constexpr qint64 kWindowMarginMs = 1000;
// A load that never came back (a lost connection) may be claimed again after this.
constexpr qint64 kLoadTimeoutMs = 5000;

} // namespace

SoldOutMemo::SoldOutMemo(Options options) : m_options(options) { m_clock.start(); }

SoldOutMemo::~SoldOutMemo() = default;

SoldOutMemo::Lookup SoldOutMemo::lookup(const QString &campaign, qint64 userId)
{
    Lookup result;
    if (!enabled())
        return result;
    std::shared_ptr<Snapshot> snapshot;
    {
        std::shared_lock lock(m_mutex);
        auto it = m_entries.constFind(campaign);
        if (it == m_entries.cend() || !it->snapshot)
            return result;
        snapshot = it->snapshot;
    }
    const qint64 now = nowMs();
    if (now >= snapshot->validUntilMs.load(std::memory_order_acquire)) {
        // Due: this apply asks Redis, and one caller re-checks the fingerprint.
        // (A check that never came back is sent again after kLoadTimeoutMs.)
        const bool stuck = now - snapshot->validUntilMs.load(std::memory_order_relaxed) > kLoadTimeoutMs;
        if (!snapshot->checking.exchange(true) || stuck) {
            result.check = true;
            result.checkSentAtMs = now;
        }
        return result;
    }
    const qint64 redisNow = snapshot->redisNowMs + (now - snapshot->takenAtMs);
    if ((snapshot->startsMs > 0 && redisNow < snapshot->startsMs + kWindowMarginMs)
        || (snapshot->endsMs > 0 && redisNow + kWindowMarginMs >= snapshot->endsMs))
        return result;
    result.answer = std::binary_search(snapshot->holders.begin(), snapshot->holders.end(), userId)
                        ? ApplyStatus::Duplicate
                        : ApplyStatus::SoldOut;
    m_answers.fetch_add(1, std::memory_order_relaxed);
    return result;
}

bool SoldOutMemo::claimLoad(const QString &campaign)
{
    if (!enabled())
        return false;
    const qint64 now = nowMs();
    std::unique_lock lock(m_mutex);
    auto it = m_entries.find(campaign);
    if (it == m_entries.end()) {
        evictIfFull();
        it = m_entries.insert(campaign, Entry{});
    }
    Entry &e = *it;
    if (e.snapshot)
        return false; // a snapshot exists; its checks keep it current
    if (e.loadClaimedAtMs >= 0 && now - e.loadClaimedAtMs < kLoadTimeoutMs)
        return false;
    if (e.lastLoadMs >= 0 && now - e.lastLoadMs < m_options.validForMs)
        return false;
    e.loadClaimedAtMs = now;
    e.loadGeneration = e.generation;
    return true;
}

void SoldOutMemo::changed(const QString &campaign)
{
    if (!enabled())
        return;
    {
        std::shared_lock lock(m_mutex);
        if (!m_entries.contains(campaign))
            return; // the usual case while a campaign sells: nothing to drop
    }
    std::unique_lock lock(m_mutex);
    auto it = m_entries.find(campaign);
    if (it == m_entries.end())
        return;
    ++it->generation;
    it->snapshot.reset();
    it->lastLoadMs = -1;
}

void SoldOutMemo::loaded(const QString &campaign, const redisReply *reply)
{
    const qint64 now = nowMs();
    auto snapshot = std::make_shared<Snapshot>();
    bool usable = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 5
                  && reply->element[4]->type == REDIS_REPLY_ARRAY;
    if (usable) {
        snapshot->fingerprint = replyString(reply->element[0]);
        snapshot->redisNowMs = replyInteger(reply->element[1]).value_or(0);
        snapshot->startsMs = replyInteger(reply->element[2]).value_or(0);
        snapshot->endsMs = replyInteger(reply->element[3]).value_or(0);
        const redisReply *members = reply->element[4];
        snapshot->holders.reserve(members->elements);
        for (size_t i = 0; i < members->elements && usable; ++i) {
            const redisReply *m = members->element[i];
            bool ok = false;
            const qint64 user = m->type == REDIS_REPLY_STRING
                                    ? QByteArrayView(m->str, qsizetype(m->len)).toLongLong(&ok)
                                    : 0;
            usable = ok;
            snapshot->holders.push_back(user);
        }
        std::sort(snapshot->holders.begin(), snapshot->holders.end());
    }

    std::unique_lock lock(m_mutex);
    auto it = m_entries.find(campaign);
    if (it == m_entries.end())
        return; // evicted meanwhile
    Entry &e = *it;
    snapshot->takenAtMs = e.loadClaimedAtMs >= 0 ? e.loadClaimedAtMs : now;
    e.loadClaimedAtMs = -1;
    if (e.loadGeneration != e.generation)
        return; // this process changed the campaign after the load was asked for
    if (!usable) {
        e.lastLoadMs = now;
        return;
    }
    snapshot->validUntilMs.store(snapshot->takenAtMs + m_options.validForMs);
    e.snapshot = std::move(snapshot);
    e.lastLoadMs = -1;
    m_snapshots.fetch_add(1, std::memory_order_relaxed);
}

void SoldOutMemo::checked(const QString &campaign, const redisReply *reply, qint64 sentAtMs)
{
    std::unique_lock lock(m_mutex);
    auto it = m_entries.find(campaign);
    if (it == m_entries.end() || !it->snapshot)
        return;
    Snapshot &s = *it->snapshot;
    if (reply && reply->type == REDIS_REPLY_STRING && replyString(reply) == s.fingerprint) {
        s.validUntilMs.store(sentAtMs + m_options.validForMs, std::memory_order_release);
        s.checking.store(false);
        return;
    }
    // Changed, or Redis could not say: Redis answers until the next sold_out.
    it->snapshot.reset();
}

void SoldOutMemo::evictIfFull()
{
    if (m_entries.size() < m_options.maxCampaigns)
        return;
    auto oldest = m_entries.begin();
    qint64 oldestAt = std::numeric_limits<qint64>::max();
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        const qint64 at = it->snapshot ? it->snapshot->takenAtMs : -1;
        if (at < oldestAt) {
            oldestAt = at;
            oldest = it;
        }
    }
    m_entries.erase(oldest);
}

} // namespace coupon
