#include "coupon/protocol/soldout_memo.h"

#include <algorithm>
#include <limits>
#include <mutex>

namespace coupon {

namespace {

// How close to a window edge (by Redis' clock, estimated) the memo leaves
// the answer to the apply script.
constexpr qint64 kWindowMarginMs = 1000;
// A load or check that never came back (a lost connection) may be sent again after this.
constexpr qint64 kLostAfterMs = 5000;

} // namespace

SoldOutMemo::SoldOutMemo(Options options, const Clock &clock)
    : m_options(options)
    , m_clock(clock)
{ }

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
        // Due: this apply asks Redis, and one caller re-checks the fingerprint
        // (again, should a check not come back).
        const bool lost = now - snapshot->checkSentAtMs.load(std::memory_order_relaxed) > kLostAfterMs;
        if (!snapshot->checking.exchange(true) || lost) {
            snapshot->checkSentAtMs.store(now, std::memory_order_relaxed);
            result.check = true;
            result.snapshotId = snapshot->id;
            result.checkSentAtMs = now;
        }
        return result;
    }
    const qint64 redisNow = now + snapshot->redisClockOffsetMs.load(std::memory_order_relaxed);
    if ((snapshot->startsMs > 0 && redisNow < snapshot->startsMs + kWindowMarginMs)
        || (snapshot->endsMs > 0 && redisNow + kWindowMarginMs >= snapshot->endsMs))
        return result;
    result.answer = std::binary_search(snapshot->holders.begin(), snapshot->holders.end(), userId)
        ? ApplyOutcome::Duplicate
        : ApplyOutcome::SoldOut;
    m_answers.fetch_add(1, std::memory_order_relaxed);
    return result;
}

bool SoldOutMemo::loadAllowed(const Entry &e, qint64 now) const
{
    if (e.snapshot)
        return false; // its checks keep it current
    if (e.loadToken != 0 && now - e.loadClaimedAtMs < kLostAfterMs)
        return false; // one on its way
    return e.lastLoadMs < 0 || now - e.lastLoadMs >= m_options.validForMs;
}

quint64 SoldOutMemo::claimLoad(const QString &campaign)
{
    if (!enabled())
        return 0;
    const qint64 now = nowMs();
    {
        // The usual answer (a snapshot exists, or a load is on its way) needs no exclusive lock.
        std::shared_lock lock(m_mutex);
        auto it = m_entries.constFind(campaign);
        if (it != m_entries.cend() && !loadAllowed(*it, now))
            return 0;
    }
    std::unique_lock lock(m_mutex);
    auto it = m_entries.find(campaign);
    if (it == m_entries.end()) {
        evictIfFull(now);
        it = m_entries.insert(campaign, Entry{});
    }
    Entry &e = *it;
    if (!loadAllowed(e, now))
        return 0;
    e.loadToken = ++m_nextToken;
    e.loadClaimedAtMs = now;
    e.lastUsedMs = now;
    m_loads.fetch_add(1, std::memory_order_relaxed);
    return e.loadToken;
}

void SoldOutMemo::loaded(const QString &campaign, quint64 token, const Reply *reply)
{
    {
        // A reply nobody waits for any more (changed, cleared, evicted) is not even read.
        std::shared_lock lock(m_mutex);
        auto it = m_entries.constFind(campaign);
        if (it == m_entries.cend() || it->loadToken != token)
            return;
    }
    const qint64 now = nowMs();
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->id = token;
    bool usable = reply && reply->isArray(5) && reply->elements[4].type == Reply::Type::Array;
    qint64 redisNowMs = 0;
    if (usable) {
        snapshot->fingerprint = reply->elements[0].string();
        redisNowMs = reply->elements[1].toInteger().value_or(0);
        snapshot->startsMs = reply->elements[2].toInteger().value_or(0);
        snapshot->endsMs = reply->elements[3].toInteger().value_or(0);
        const std::vector<Reply> &members = reply->elements[4].elements;
        snapshot->holders.reserve(members.size());
        for (size_t i = 0; i < members.size() && usable; ++i) {
            const Reply &m = members[i];
            bool ok = false;
            const qint64 user = m.type == Reply::Type::String ? m.text.toLongLong(&ok) : 0;
            usable = ok;
            snapshot->holders.push_back(user);
        }
        std::sort(snapshot->holders.begin(), snapshot->holders.end());
    }

    std::unique_lock lock(m_mutex);
    auto it = m_entries.find(campaign);
    if (it == m_entries.end() || it->loadToken != token)
        return; // changed meanwhile: this snapshot may predate what this process did
    Entry &e = *it;
    const qint64 askedAt = e.loadClaimedAtMs;
    e.loadToken = 0;
    e.loadClaimedAtMs = -1;
    if (!usable) {
        e.lastLoadMs = now;
        return;
    }
    // Measured from when it was asked for, Redis' clock read in between.
    snapshot->redisClockOffsetMs.store(redisNowMs - askedAt);
    snapshot->validUntilMs.store(askedAt + m_options.validForMs);
    e.snapshot = std::move(snapshot);
    e.lastLoadMs = -1;
    e.lastUsedMs = now;
    m_snapshots.fetch_add(1, std::memory_order_relaxed);
}

void SoldOutMemo::checked(const QString &campaign, const Lookup &due, const Reply *reply)
{
    std::unique_lock lock(m_mutex);
    auto it = m_entries.find(campaign);
    if (it == m_entries.end() || !it->snapshot || it->snapshot->id != due.snapshotId)
        return; // about a snapshot that is gone already
    Snapshot &s = *it->snapshot;
    const bool same = reply && reply->isArray(2) && reply->elements[0].string() == s.fingerprint;
    if (!same) {
        // Changed, or Redis could not say: Redis answers until the next sold_out.
        it->snapshot.reset();
        return;
    }
    if (const std::optional<qint64> redisNow = reply->elements[1].toInteger())
        s.redisClockOffsetMs.store(*redisNow - due.checkSentAtMs, std::memory_order_relaxed);
    const qint64 until = due.checkSentAtMs + m_options.validForMs;
    if (until > s.validUntilMs.load())
        s.validUntilMs.store(until, std::memory_order_release);
    s.checking.store(false);
    it->lastUsedMs = nowMs();
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
    it->snapshot.reset();
    it->loadToken = 0; // a load on its way may predate this change
    it->loadClaimedAtMs = -1;
    it->lastLoadMs = -1;
}

void SoldOutMemo::clear()
{
    if (!enabled())
        return;
    std::unique_lock lock(m_mutex);
    m_entries.clear();
}

void SoldOutMemo::evictIfFull(qint64 now)
{
    if (m_entries.size() < m_options.maxCampaigns)
        return;
    // The least recently used entry with no load on its way; only if every
    // entry has one, the oldest claim.
    auto victim = m_entries.end();
    qint64 victimUsed = std::numeric_limits<qint64>::max();
    bool victimLoading = true;
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        const bool loading = it->loadToken != 0 && now - it->loadClaimedAtMs < kLostAfterMs;
        if ((victimLoading && !loading) || (loading == victimLoading && it->lastUsedMs < victimUsed)) {
            victim = it;
            victimUsed = it->lastUsedMs;
            victimLoading = loading;
        }
    }
    if (victim != m_entries.end())
        m_entries.erase(victim);
}

} // namespace coupon
