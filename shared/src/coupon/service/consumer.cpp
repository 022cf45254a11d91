#include "coupon/service/consumer.h"

#include "coupon/base/backoff.h"
#include "coupon/base/validation.h"
#include "coupon/kafka/kafka.h"
#include "coupon/kafka/kafka_errors.h"
#include "coupon/mysql/sql_errors.h"
#include "coupon/protocol/codec.h"

#include <QLoggingCategory>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcConsumer, "coupon.worker")

namespace coupon {

CouponConsumer::CouponConsumer(const Settings &settings)
    : m_settings(settings)
{ }

CouponConsumer::~CouponConsumer() = default;

Result<std::unique_ptr<CouponConsumer>> CouponConsumer::create(const Settings &settings)
{
    std::unique_ptr<CouponConsumer> consumer(new CouponConsumer(settings));
    const QMap<QString, QString> defaults{
        {u"client.id"_s, u"coupon-worker"_s},
        // A group that has never committed starts at the beginning: nothing
        // accepted before the first worker joined is skipped.
        {u"auto.offset.reset"_s, u"earliest"_s},
        {u"auto.commit.interval.ms"_s, u"500"_s},
        // Bounds what is fetched ahead (and so memory while MySQL is down).
        {u"queued.max.messages.kbytes"_s, u"8192"_s},
        {u"fetch.wait.max.ms"_s, u"50"_s},
        {u"session.timeout.ms"_s, u"10000"_s},
        {u"heartbeat.interval.ms"_s, u"1000"_s},
    };
    // Offsets are stored only after the MySQL commit; the committer sends
    // only stored offsets, so nothing uncommitted in MySQL is ever committed.
    const QMap<QString, QString> forced{
        {u"group.id"_s, settings.worker.group},
        {u"enable.auto.commit"_s, u"true"_s},
        {u"enable.auto.offset.store"_s, u"false"_s},
        {u"enable.partition.eof"_s, u"false"_s},
    };
    Result<KafkaHandle> rk = newKafkaClient(RD_KAFKA_CONSUMER, settings, defaults, forced, [&](rd_kafka_conf_t *conf) {
        rd_kafka_conf_set_rebalance_cb(conf, &CouponConsumer::rebalanceTrampoline);
        rd_kafka_conf_set_opaque(conf, consumer.get());
    });
    if (!rk)
        return rk.error();
    consumer->m_rk = std::move(rk).value();
    rd_kafka_poll_set_consumer(consumer->m_rk.get());
    return consumer;
}

void CouponConsumer::rebalanceTrampoline(rd_kafka_t *, rd_kafka_resp_err_t err,
                                         rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    static_cast<CouponConsumer *>(opaque)->onRebalance(err, partitions);
}

void CouponConsumer::onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *partitions)
{
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        qCInfo(lcConsumer, "assigned %d partition(s)", partitions->cnt);
        rd_kafka_assign(m_rk.get(), partitions);
        m_stats.assigned.store(partitions->cnt);
        m_stats.assignments.fetch_add(1, std::memory_order_relaxed);
        m_paused = false;
        m_stats.paused.store(false);
        return;
    }
    // Revoked (eager protocol: everything). Land what we hold if MySQL takes
    // it now; otherwise drop it uncommitted: the next owner reads it again
    // from the last committed offset, and the unique key absorbs repeats.
    if (!m_batch.empty() && m_store) {
        if (Status st = flush(); !st) {
            qCWarning(lcConsumer, "revoke: %s; %zu message(s) left for the next owner", qPrintable(st.error().message),
                      m_batch.size());
            m_batch.clear();
            m_batchEnd.clear();
        }
    }
    const rd_kafka_resp_err_t commitErr = rd_kafka_commit(m_rk.get(), nullptr, 0);
    if (commitErr && commitErr != RD_KAFKA_RESP_ERR__NO_OFFSET)
        qCWarning(lcConsumer, "commit on revoke: %s", rd_kafka_err2str(commitErr));
    rd_kafka_assign(m_rk.get(), nullptr);
    m_stats.assigned.store(0);
    m_stats.revocations.fetch_add(1, std::memory_order_relaxed);
    m_stats.setPartitionLag({});
    qCInfo(lcConsumer, "revoked %d partition(s)", partitions->cnt);
}

void CouponConsumer::add(const rd_kafka_message_t *message)
{
    IncomingRecord record;
    record.partition = message->partition;
    record.offset = message->offset;
    std::optional<QByteArrayView> key, value;
    if (message->key) {
        record.key = QByteArray(static_cast<const char *>(message->key), qsizetype(message->key_len));
        key = QByteArrayView(record.key);
    }
    if (message->payload) {
        record.value = QByteArray(static_cast<const char *>(message->payload), qsizetype(message->len));
        value = QByteArrayView(record.value);
    }
    std::vector<codec::RawHeader> headers;
    rd_kafka_headers_t *hdrs = nullptr;
    if (rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name = nullptr;
        const void *data = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &data, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
            codec::RawHeader h;
            h.name = QByteArrayView(name);
            if (data)
                h.value = QByteArrayView(static_cast<const char *>(data), qsizetype(size));
            headers.push_back(h);
        }
    }
    codec::Decoded decoded = codec::decode(key, value, headers, m_settings.defaultCampaign);
    if (decoded.barrier) {
        record.barrier = true; // the batch carries it so its offset is committed in turn
        m_stats.barriers.fetch_add(1, std::memory_order_relaxed);
    } else if (decoded.message) {
        record.message = std::move(decoded.message);
    } else {
        record.poisonReason = codec::toString(*decoded.error);
        for (const codec::RawHeader &h : headers) {
            if (h.name == codec::kHeaderCampaign && h.value && isValidCampaignId(*h.value))
                record.poisonCampaign = QString::fromLatin1(h.value->data(), h.value->size());
        }
    }
    m_batch.push_back(std::move(record));

    bool known = false;
    for (auto &[partition, next] : m_batchEnd) {
        if (partition == message->partition) {
            next = std::max<int64_t>(next, message->offset + 1);
            known = true;
        }
    }
    if (!known)
        m_batchEnd.emplace_back(message->partition, message->offset + 1);
    m_stats.consumed.fetch_add(1, std::memory_order_relaxed);
}

Status CouponConsumer::flush()
{
    if (m_batch.empty())
        return Ok{};
    const Clock::time_point began = Clock::now();
    Result<BatchOutcome> outcome = m_store->writeBatch(m_settings.kafka.topic, m_batch);
    if (!outcome) {
        m_stats.mysqlErrors.fetch_add(1);
        m_stats.setMysqlError(outcome.error().message);
        if (errors::isConnectionError(outcome.error()))
            (void)m_store->reopen(); // a failure shows up again on the next attempt
        return outcome.error();
    }
    // In MySQL now: only from here may these offsets be committed.
    const QByteArray topic = m_settings.kafka.topic.toUtf8();
    KafkaPartitionListHandle offsets(rd_kafka_topic_partition_list_new(int(m_batchEnd.size())));
    for (const auto &[partition, next] : m_batchEnd)
        rd_kafka_topic_partition_list_add(offsets.get(), topic.constData(), partition)->offset = next;
    const rd_kafka_resp_err_t err = rd_kafka_offsets_store(m_rk.get(), offsets.get());
    if (err)
        // A partition revoked meanwhile: its next owner re-reads, the unique key absorbs.
        qCDebug(lcConsumer, "offsets_store: %s", rd_kafka_err2str(err));
    m_stats.inserted.fetch_add(outcome->inserted, std::memory_order_relaxed);
    m_stats.duplicates.fetch_add(outcome->duplicates, std::memory_order_relaxed);
    m_stats.poison.fetch_add(outcome->poison, std::memory_order_relaxed);
    for (auto it = outcome->poisonReasons.cbegin(); it != outcome->poisonReasons.cend(); ++it) {
        if (it.key() == QLatin1String(kOverLimitReason)) {
            m_stats.overLimit.fetch_add(it.value(), std::memory_order_relaxed);
            continue;
        }
        size_t reason = kPoisonReasons.size() - 1; // "other"
        for (size_t i = 0; i < kPoisonReasons.size(); ++i) {
            if (it.key() == QLatin1String(kPoisonReasons[i]))
                reason = i;
        }
        m_stats.poisonByReason[reason].fetch_add(it.value(), std::memory_order_relaxed);
    }
    m_stats.batches.fetch_add(1, std::memory_order_relaxed);
    m_stats.batchSize.observe(double(m_batch.size()));
    m_stats.commitSeconds.observe(std::chrono::duration<double>(Clock::now() - began).count());
    if (!m_stats.mysqlUp.load())
        m_stats.setMysqlError({});
    m_mysqlHeard = Clock::now();
    m_batch.clear();
    m_batchEnd.clear();
    return Ok{};
}

void CouponConsumer::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    rd_kafka_topic_partition_list_t *assignment = nullptr;
    if (rd_kafka_assignment(m_rk.get(), &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    KafkaPartitionListHandle guard(assignment);
    if (paused)
        rd_kafka_pause_partitions(m_rk.get(), assignment);
    else
        rd_kafka_resume_partitions(m_rk.get(), assignment);
    m_paused = paused;
    m_stats.paused.store(paused);
}

void CouponConsumer::updateLag()
{
    rd_kafka_topic_partition_list_t *assignment = nullptr;
    if (rd_kafka_assignment(m_rk.get(), &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    KafkaPartitionListHandle guard(assignment);
    rd_kafka_position(m_rk.get(), assignment);
    int64_t lag = 0;
    std::vector<std::pair<int32_t, int64_t>> byPartition;
    for (int i = 0; i < assignment->cnt; ++i) {
        const rd_kafka_topic_partition_t &p = assignment->elems[i];
        int64_t low = 0, high = 0;
        if (rd_kafka_get_watermark_offsets(m_rk.get(), p.topic, p.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR
            || high < 0)
            continue;
        const int64_t behind = p.offset >= 0 ? std::max<int64_t>(0, high - p.offset) : std::max<int64_t>(0, high - low);
        lag += behind;
        byPartition.emplace_back(p.partition, behind);
    }
    m_stats.lag.store(lag);
    m_stats.setPartitionLag(std::move(byPartition));
}

Status CouponConsumer::run(const std::atomic<bool> &stop)
{
    // MySQL first: a worker that cannot write must not take partitions.
    if (!openStore(stop))
        return Ok{}; // stopped before MySQL answered
    if (Status migrated = m_store->migrate(); !migrated)
        return migrated.error();
    if (Status subscribed = subscribe(); !subscribed)
        return subscribed.error();

    auto lastLag = Clock::now();
    while (!stop.load()) {
        ++m_stats.loops;
        collectBatch(stop);
        if (!m_batch.empty() && (!m_paused || Clock::now() >= m_retryAt))
            writeOrPause();
        if (Clock::now() - lastLag > std::chrono::milliseconds(500)) {
            updateLag();
            lastLag = Clock::now();
        }
        checkMysqlWhenIdle();
    }
    leave();
    return Ok{};
}

bool CouponConsumer::openStore(const std::atomic<bool> &stop)
{
    using namespace std::chrono;
    m_store = std::make_unique<CouponStore>(m_settings.mysql, u"coupon-worker"_s);
    Backoff backoff;
    for (;;) {
        ++m_stats.loops;
        Status opened = m_store->open();
        if (opened) {
            m_stats.setMysqlError({});
            m_mysqlHeard = Clock::now();
            return true;
        }
        m_stats.setMysqlError(opened.error().message);
        if (stop.load())
            return false;
        const milliseconds wait(backoff.nextMs());
        qCWarning(lcConsumer, "%s; retrying in %lld ms", qPrintable(opened.error().message),
                  static_cast<long long>(wait.count()));
        for (auto until = Clock::now() + wait; Clock::now() < until && !stop.load(); ++m_stats.loops)
            std::this_thread::sleep_for(milliseconds(20));
    }
}

Status CouponConsumer::subscribe()
{
    const QByteArray topic = m_settings.kafka.topic.toUtf8();
    KafkaPartitionListHandle subscription(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(subscription.get(), topic.constData(), RD_KAFKA_PARTITION_UA);
    if (rd_kafka_resp_err_t err = rd_kafka_subscribe(m_rk.get(), subscription.get()))
        return errors::fromKafka(err, u"subscribe to "_s + m_settings.kafka.topic);
    qCInfo(lcConsumer, "subscribed to %s as group %s", topic.constData(), qPrintable(m_settings.worker.group));
    return Ok{};
}

void CouponConsumer::collectBatch(const std::atomic<bool> &stop)
{
    using namespace std::chrono;
    const size_t batchSize = size_t(m_settings.worker.batchSize);
    const milliseconds batchWindow(m_settings.worker.batchMs);
    // Until the batch is full or its window since the first message closes;
    // while paused, until the retry is due.
    auto windowEnd = m_batch.empty() ? Clock::time_point::max() : Clock::now() + batchWindow;
    while (m_batch.size() < batchSize && !stop.load()) {
        const auto now = Clock::now();
        int timeout = 100;
        if (!m_batch.empty()) {
            if (now >= windowEnd && !m_paused)
                break;
            if (!m_paused)
                timeout = int(duration_cast<milliseconds>(windowEnd - now).count());
        }
        if (m_paused && now >= m_retryAt)
            break;
        ++m_stats.loops; // waiting on Kafka (or for the retry) is turning, not hanging
        KafkaMessageHandle message(rd_kafka_consumer_poll(m_rk.get(), timeout));
        if (!message) {
            if (m_batch.empty() && !m_paused)
                break; // idle: go round (checks stop, updates lag)
            continue;
        }
        if (message->err) {
            if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                qCWarning(lcConsumer, "consume: %s", rd_kafka_message_errstr(message.get()));
            continue;
        }
        if (m_batch.empty())
            windowEnd = Clock::now() + batchWindow; // the window opens with the first message
        add(message.get());
    }
}

void CouponConsumer::writeOrPause()
{
    if (Status st = flush(); !st) {
        const std::chrono::milliseconds wait(m_retryBackoff.nextMs());
        qCWarning(lcConsumer, "batch of %zu not written: %s; partitions paused, retry in %lld ms", m_batch.size(),
                  qPrintable(st.error().message), static_cast<long long>(wait.count()));
        setPaused(true);
        m_retryAt = Clock::now() + wait;
        return;
    }
    if (m_paused)
        qCInfo(lcConsumer, "MySQL takes batches again; partitions resumed");
    setPaused(false);
    m_retryBackoff.reset();
}

void CouponConsumer::checkMysqlWhenIdle()
{
    // A worker with nothing to write would not notice MySQL leaving until
    // the next batch: readiness asks every few seconds meanwhile.
    constexpr std::chrono::seconds kIdleCheckEvery(5);
    if (!m_batch.empty() || m_paused || Clock::now() - m_mysqlHeard < kIdleCheckEvery)
        return;
    m_mysqlHeard = Clock::now();
    if (Status st = m_store->ping(); !st) {
        m_stats.mysqlErrors.fetch_add(1);
        // A dropped connection that opens again at once was a blip, not an outage.
        if (!errors::isConnectionError(st.error()) || !m_store->reopen()) {
            m_stats.setMysqlError(st.error().message);
            return;
        }
    }
    if (!m_stats.mysqlUp.load())
        m_stats.setMysqlError({});
}

Status CouponConsumer::checkTopic(int timeoutMs) const
{
    return checkTopicMetadata(m_rk.get(), m_settings.kafka.topic, timeoutMs);
}

void CouponConsumer::leave()
{
    // Land the batch in hand if MySQL takes it, then leave the group (the
    // close commits the stored offsets).
    if (!m_batch.empty()) {
        if (Status st = flush(); !st)
            qCWarning(lcConsumer, "stopping with %zu unwritten message(s) (they stay uncommitted): %s", m_batch.size(),
                      qPrintable(st.error().message));
    }
    if (rd_kafka_resp_err_t err = rd_kafka_consumer_close(m_rk.get()))
        qCWarning(lcConsumer, "close: %s", rd_kafka_err2str(err));
    m_store.reset();
}

} // namespace coupon
