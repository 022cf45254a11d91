#include "coupon/kafka/kafka.h"

#include "coupon/base/threads.h"
#include "coupon/kafka/kafka_errors.h"

#include <QLoggingCategory>

#include <chrono>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcKafka, "coupon.kafka")
Q_LOGGING_CATEGORY(lcKafkaClient, "coupon.kafka.client") // librdkafka's own log lines

namespace coupon {

namespace {
constexpr qint64 kDefaultDeliveryTimeoutMs = 10000;
} // namespace

Result<KafkaConfHandle> makeKafkaConf(const Settings &settings, const QMap<QString, QString> &defaults,
                                      const QMap<QString, QString> &forced)
{
    KafkaConfHandle conf(rd_kafka_conf_new());
    char errstr[512];
    auto set = [&](const QString &name, const QString &value) -> Status {
        if (rd_kafka_conf_set(conf.get(), name.toUtf8().constData(), value.toUtf8().constData(), errstr, sizeof errstr)
            != RD_KAFKA_CONF_OK) {
            const bool secret = isSecretKey(u"kafka."_s + name);
            return Error(
                Errc::ConfigInvalid,
                u"kafka.%1 = %2: %3"_s.arg(name, secret ? u"***"_s : u'"' + value + u'"', QString::fromUtf8(errstr)));
        }
        return Ok{};
    };
    for (auto it = defaults.cbegin(); it != defaults.cend(); ++it) {
        if (Status st = set(it.key(), it.value()); !st)
            return st.error();
    }
    for (auto it = settings.kafka.properties.cbegin(); it != settings.kafka.properties.cend(); ++it) {
        if (Status st = set(it.key(), it.value()); !st)
            return st.error();
    }
    for (auto it = forced.cbegin(); it != forced.cend(); ++it) {
        if (Status st = set(it.key(), it.value()); !st)
            return st.error();
    }
    return conf;
}

Result<KafkaHandle> newKafkaClient(rd_kafka_type_t type, const Settings &settings,
                                   const QMap<QString, QString> &defaults, const QMap<QString, QString> &forced,
                                   const KafkaConfHooks &hooks)
{
    Result<KafkaConfHandle> conf = makeKafkaConf(settings, defaults, forced);
    if (!conf)
        return conf.error();
    // librdkafka's own log lines go through Qt's logging, as every other
    // line of ours does (the services write them as logfmt or to the
    // journal), instead of its default printing to stderr. Called from
    // librdkafka's threads; the message handler takes whole lines.
    rd_kafka_conf_set_log_cb(conf->get(), [](const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        const char *name = rk ? rd_kafka_name(rk) : "kafka";
        if (level <= 4)
            qCWarning(lcKafkaClient, "%s: %s: %s", name, fac, buf);
        else if (level <= 6)
            qCInfo(lcKafkaClient, "%s: %s: %s", name, fac, buf);
        else
            qCDebug(lcKafkaClient, "%s: %s: %s", name, fac, buf);
    });
    if (hooks)
        hooks(conf->get());
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf->get(), errstr, sizeof errstr);
    if (!rk)
        return Error(Errc::KafkaCreate, QString::fromUtf8(errstr));
    (void)conf.value().release(); // rd_kafka_new owns the configuration now
    return KafkaHandle(rk);
}

// ---------------------------------------------------------------------------

struct CouponProducer::Handle
{
    KafkaHandle rk;
    std::atomic<bool> fatal{false};
};

namespace {

void onDelivery(rd_kafka_t *, const rd_kafka_message_t *message, void *)
{
    std::unique_ptr<DeliveryCallback> callback(static_cast<DeliveryCallback *>(message->_private));
    if (!callback)
        return;
    // Persisted means no error; a failure is definite only when librdkafka
    // says the message was not persisted, otherwise it may have been.
    DeliveryReport report;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        report.outcome = DeliveryReport::Outcome::Persisted;
    else if (rd_kafka_message_status(message) == RD_KAFKA_MSG_STATUS_NOT_PERSISTED)
        report.outcome = DeliveryReport::Outcome::NotPersisted;
    else
        report.outcome = DeliveryReport::Outcome::PossiblyPersisted;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR)
        report.error = errors::fromKafka(message->err);
    report.partition = message->partition;
    report.offset = message->offset;
    (*callback)(report);
}

void onError(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    auto *fatal = static_cast<std::atomic<bool> *>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char text[512];
        const rd_kafka_resp_err_t original = rd_kafka_fatal_error(rk, text, sizeof text);
        qCCritical(lcKafka, "producer fatal error %s: %s; the producer will be recreated", rd_kafka_err2name(original),
                   text);
        fatal->store(true);
        return;
    }
    // Everything else is transient: librdkafka retries by itself.
    qCWarning(lcKafka, "producer: %s: %s", rd_kafka_err2name(rd_kafka_resp_err_t(err)), reason);
}

} // namespace

CouponProducer::CouponProducer(const Settings &settings)
    : m_settings(settings)
    , m_topic(settings.kafka.topic.toUtf8())
{ }

Result<std::unique_ptr<CouponProducer>> CouponProducer::create(const Settings &settings, TopicCheck check)
{
    const QString acks = settings.kafka.properties.value(u"acks"_s, u"all"_s);
    if (acks != u"all"_s && acks != u"-1"_s)
        return Error(Errc::ConfigInvalid,
                     u"kafka.acks = \"%1\": the apply protocol answers only what all in-sync replicas "
                     "have, so it must be all"_s.arg(acks));
    const QString idempotence = settings.kafka.properties.value(u"enable.idempotence"_s, u"true"_s);
    if (idempotence != u"true"_s)
        return Error(
            Errc::ConfigInvalid,
            u"kafka.enable.idempotence = \"%1\": must be true (retries must not duplicate)"_s.arg(idempotence));

    std::unique_ptr<CouponProducer> producer(new CouponProducer(settings));
    Result<std::shared_ptr<Handle>> handle = producer->newHandle();
    if (!handle)
        return handle.error();
    // Fail early, with the topic's name, when the topic is not there; this also
    // opens the broker connection so the first applies don't pay for it.
    if (check == TopicCheck::AtStart) {
        rd_kafka_t *rk = handle.value()->rk.get();
        KafkaTopicHandle topic(rd_kafka_topic_new(rk, producer->m_topic.constData(), nullptr));
        const rd_kafka_metadata_t *metadata = nullptr;
        const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, topic.get(), &metadata, 10000);
        if (err)
            return errors::fromKafka(err, u"Kafka at %1"_s.arg(settings.kafka.bootstrapServers()));
        const rd_kafka_resp_err_t topicErr = metadata->topic_cnt == 1 ? metadata->topics[0].err
                                                                      : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        rd_kafka_metadata_destroy(metadata);
        if (topicErr)
            return errors::fromKafka(topicErr,
                                     u"topic %1 at %2"_s.arg(settings.kafka.topic, settings.kafka.bootstrapServers()));
    }
    producer->m_handle.store(handle.value());
    producer->m_poller = std::thread([p = producer.get()] {
        setCurrentThreadName("kafka-poll");
        p->pollLoop();
    });
    return producer;
}

qint64 producerDeliveryTimeoutMs(const KafkaSettings &kafka)
{
    for (const QString &name : {u"message.timeout.ms"_s, u"delivery.timeout.ms"_s}) {
        bool ok = false;
        const qint64 v = kafka.properties.value(name).toLongLong(&ok);
        if (ok && v > 0)
            return v;
    }
    return kDefaultDeliveryTimeoutMs;
}

Result<std::shared_ptr<CouponProducer::Handle>> CouponProducer::newHandle()
{
    auto handle = std::make_shared<Handle>();
    const QMap<QString, QString> defaults{
        {u"client.id"_s, u"coupon-producer"_s},
        // Measured side by side with the gateway under wrk (256 connections):
        // 2 ms gave more applies/s than 1 or 5 (the idempotent producer keeps
        // at most 5 requests in flight per broker, so latency bounds throughput).
        {u"linger.ms"_s, u"2"_s},
        // A user should hear back within seconds, not librdkafka's default 5 minutes.
        {u"message.timeout.ms"_s, QString::number(kDefaultDeliveryTimeoutMs)},
        // Java's default for keyed records, so our keys land where a Java
        // producer of the tutorial would put them.
        {u"partitioner"_s, u"murmur2_random"_s},
        {u"queue.buffering.max.messages"_s, u"1000000"_s},
    };
    const QMap<QString, QString> forced{{u"enable.idempotence"_s, u"true"_s}, {u"acks"_s, u"all"_s}};
    Result<KafkaHandle> rk = newKafkaClient(RD_KAFKA_PRODUCER, m_settings, defaults, forced,
                                            [&](rd_kafka_conf_t *conf) {
                                                rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
                                                rd_kafka_conf_set_error_cb(conf, onError);
                                                rd_kafka_conf_set_opaque(conf, &handle->fatal);
                                            });
    if (!rk)
        return rk.error();
    handle->rk = std::move(rk).value();
    return handle;
}

CouponProducer::~CouponProducer()
{
    if (Status st = flush(10000); !st)
        qCWarning(lcKafka, "%s", qPrintable(st.error().message));
    m_stop.store(true);
    if (m_poller.joinable())
        m_poller.join();
    std::shared_ptr<Handle> handle = m_handle.exchange(nullptr);
    if (handle) {
        // Anything still queued fails through its callback as not persisted.
        rd_kafka_purge(handle->rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(handle->rk.get(), 0);
    }
}

Status CouponProducer::produce(const CouponMessage &message, DeliveryCallback callback)
{
    std::shared_ptr<Handle> handle = m_handle.load();
    if (!handle)
        return Error(Errc::KafkaClosed, u"the producer is shutting down"_s);
    const QByteArray key = codec::encodeKey(message.userId);
    const QByteArray value = codec::encodeValue(message.userId);
    const QByteArray campaign = message.campaign.toLatin1();
    const QByteArray ticket = codec::encodeNumber(message.ticket);
    const QByteArray appliedAt = codec::encodeNumber(message.appliedAtMs);
    auto opaque = std::make_unique<DeliveryCallback>(std::move(callback));
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        handle->rk.get(), RD_KAFKA_V_TOPIC(m_topic.constData()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.constData(), size_t(key.size())),
        RD_KAFKA_V_VALUE(const_cast<char *>(value.constData()), size_t(value.size())),
        RD_KAFKA_V_HEADER(codec::kHeaderCampaign, campaign.constData(), campaign.size()),
        RD_KAFKA_V_HEADER(codec::kHeaderTicket, ticket.constData(), ticket.size()),
        RD_KAFKA_V_HEADER(codec::kHeaderRequestId, message.requestId.constData(), message.requestId.size()),
        RD_KAFKA_V_HEADER(codec::kHeaderAppliedAt, appliedAt.constData(), appliedAt.size()),
        RD_KAFKA_V_OPAQUE(opaque.get()), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return errors::fromKafka(err, u"produce to "_s + m_settings.kafka.topic);
    (void)opaque.release(); // onDelivery owns it now
    return Ok{};
}

Status CouponProducer::flush(int timeoutMs)
{
    std::shared_ptr<Handle> handle = m_handle.load();
    if (!handle)
        return Ok{};
    const rd_kafka_resp_err_t err = rd_kafka_flush(handle->rk.get(), timeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return errors::fromKafka(
            err, u"flush: %1 message(s) without a delivery report"_s.arg(rd_kafka_outq_len(handle->rk.get())));
    return Ok{};
}

Status CouponProducer::checkTopic(int timeoutMs) const
{
    std::shared_ptr<Handle> handle = m_handle.load();
    if (!handle)
        return Error(Errc::KafkaClosed, u"the producer is shutting down"_s);
    return checkTopicMetadata(handle->rk.get(), m_settings.kafka.topic, timeoutMs);
}

Result<KafkaMetadataHandle> topicMetadata(rd_kafka_t *rk, const QString &topicName, int timeoutMs)
{
    const QByteArray name = topicName.toUtf8();
    KafkaTopicHandle topic(rd_kafka_topic_new(rk, name.constData(), nullptr));
    const rd_kafka_metadata_t *raw = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, topic.get(), &raw, timeoutMs);
    if (err)
        return errors::fromKafka(err, u"metadata of "_s + topicName);
    KafkaMetadataHandle metadata(raw);
    if (metadata->topic_cnt != 1 || metadata->topics[0].err)
        return errors::fromKafka(metadata->topic_cnt ? metadata->topics[0].err
                                                     : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                 u"topic "_s + topicName);
    return metadata;
}

Status checkTopicMetadata(rd_kafka_t *rk, const QString &topicName, int timeoutMs)
{
    Result<KafkaMetadataHandle> metadata = topicMetadata(rk, topicName, timeoutMs);
    if (!metadata)
        return metadata.error();
    const rd_kafka_metadata_topic_t &t = (*metadata)->topics[0];
    if (t.partition_cnt == 0)
        return errors::fromKafka(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                 u"topic %1 has no partitions"_s.arg(topicName));
    for (int i = 0; i < t.partition_cnt; ++i) {
        const rd_kafka_metadata_partition_t &p = t.partitions[i];
        if (p.leader < 0)
            return errors::fromKafka(p.err ? p.err : RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                                     u"partition %1 of %2 has no leader"_s.arg(p.id).arg(topicName));
    }
    return Ok{};
}

QString CouponProducer::lastError() const
{
    std::lock_guard lock(m_errorMutex);
    return m_lastError;
}

void CouponProducer::raiseFatalErrorForTest()
{
    if (std::shared_ptr<Handle> handle = m_handle.load())
        rd_kafka_test_fatal_error(handle->rk.get(), RD_KAFKA_RESP_ERR_PRODUCER_FENCED, "test: fenced");
}

void CouponProducer::pollLoop()
{
    while (!m_stop.load()) {
        std::shared_ptr<Handle> handle = m_handle.load();
        if (!handle)
            return;
        rd_kafka_poll(handle->rk.get(), 50);
        if (handle->fatal.load())
            replaceAfterFatalError();
    }
}

void CouponProducer::replaceAfterFatalError()
{
    Result<std::shared_ptr<Handle>> fresh = newHandle();
    if (!fresh) {
        // Keep the dead one: produce() then fails with the fatal error and the
        // applies answer 503; we try again on the next round.
        std::lock_guard lock(m_errorMutex);
        m_lastError = fresh.error().message;
        return;
    }
    std::shared_ptr<Handle> old = m_handle.exchange(fresh.value());
    m_recreations.fetch_add(1);
    {
        char text[512];
        rd_kafka_fatal_error(old->rk.get(), text, sizeof text);
        std::lock_guard lock(m_errorMutex);
        m_lastError = QString::fromUtf8(text);
    }
    // Fail what the dead producer still holds; each callback learns whether
    // its message may have been written (in flight) or certainly not (queued).
    rd_kafka_purge(old->rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (rd_kafka_outq_len(old->rk.get()) > 0 && std::chrono::steady_clock::now() < deadline)
        rd_kafka_poll(old->rk.get(), 50);
    qCWarning(lcKafka, "producer recreated after a fatal error (%lld so far)",
              static_cast<long long>(m_recreations.load()));
}

// ---------------------------------------------------------------------------

Result<std::unique_ptr<LagProbe>> LagProbe::create(const Settings &settings, const QString &group)
{
    Result<KafkaHandle> client = newKafkaClient(RD_KAFKA_CONSUMER, settings, {{u"client.id"_s, u"coupon-lag-probe"_s}},
                                                {{u"group.id"_s, group}, {u"enable.auto.commit"_s, u"false"_s}});
    if (!client)
        return client.error();
    std::unique_ptr<LagProbe> probe(new LagProbe);
    probe->m_client = std::move(client).value();
    probe->m_topic = settings.kafka.topic.toUtf8();
    return probe;
}

Result<QList<PartitionLag>> LagProbe::query(int timeoutMs)
{
    rd_kafka_t *rk = m_client.get();
    Result<KafkaMetadataHandle> metadata = topicMetadata(rk, QString::fromUtf8(m_topic), timeoutMs);
    if (!metadata)
        return metadata.error();
    const rd_kafka_metadata_topic_t &t = (*metadata)->topics[0];
    KafkaPartitionListHandle list(rd_kafka_topic_partition_list_new(t.partition_cnt));
    for (int i = 0; i < t.partition_cnt; ++i)
        rd_kafka_topic_partition_list_add(list.get(), m_topic.constData(), t.partitions[i].id);
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, list.get(), timeoutMs);
    if (err)
        return errors::fromKafka(err, u"committed offsets"_s);

    QList<PartitionLag> lags;
    for (int i = 0; i < list->cnt; ++i) {
        PartitionLag lag;
        lag.partition = list->elems[i].partition;
        lag.committed = list->elems[i].offset; // RD_KAFKA_OFFSET_INVALID (-1001) when none
        if (lag.committed < 0)
            lag.committed = -1;
        int64_t low = 0, high = 0;
        err = rd_kafka_query_watermark_offsets(rk, m_topic.constData(), lag.partition, &low, &high, timeoutMs);
        if (err)
            return errors::fromKafka(err, u"watermarks of partition %1"_s.arg(lag.partition));
        lag.logStart = low;
        lag.logEnd = high;
        lags << lag;
    }
    std::sort(lags.begin(), lags.end(),
              [](const PartitionLag &a, const PartitionLag &b) { return a.partition < b.partition; });
    return lags;
}

Result<QList<PartitionLag>> appendBarriers(const Settings &settings, const QByteArray &who, int timeoutMs)
{
    struct Slot
    {
        int32_t partition = -1;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__IN_PROGRESS;
        int64_t offset = -1;
    };
    // Not idempotent: a barrier written twice is two barriers, both harmless.
    Result<KafkaHandle> rk = newKafkaClient(
        RD_KAFKA_PRODUCER, settings,
        {{u"client.id"_s, u"coupon-barrier"_s},
         {u"linger.ms"_s, u"0"_s},
         {u"message.timeout.ms"_s, QString::number(std::max(1000, timeoutMs))}},
        {{u"enable.idempotence"_s, u"false"_s}, {u"acks"_s, u"all"_s}}, [](rd_kafka_conf_t *conf) {
            rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t *, const rd_kafka_message_t *m, void *) {
                auto *slot = static_cast<Slot *>(m->_private);
                slot->err = m->err;
                slot->offset = m->offset;
            });
        });
    if (!rk)
        return rk.error();
    std::vector<Slot> marks;
    {
        Result<KafkaMetadataHandle> metadata = topicMetadata(rk->get(), settings.kafka.topic, timeoutMs);
        if (!metadata)
            return metadata.error();
        const rd_kafka_metadata_topic_t &t = (*metadata)->topics[0];
        for (int i = 0; i < t.partition_cnt; ++i)
            marks.push_back(Slot{t.partitions[i].id});
    }
    const QByteArray topicName = settings.kafka.topic.toUtf8();
    KafkaTopicHandle topic(rd_kafka_topic_new(rk->get(), topicName.constData(), nullptr));
    for (Slot &slot : marks) {
        const rd_kafka_resp_err_t err = rd_kafka_producev(
            rk->get(), RD_KAFKA_V_RKT(topic.get()), RD_KAFKA_V_PARTITION(slot.partition),
            RD_KAFKA_V_HEADER(codec::kHeaderBarrier, who.constData(), who.size()), RD_KAFKA_V_OPAQUE(&slot),
            RD_KAFKA_V_END);
        if (err)
            return errors::fromKafka(err, u"barrier on partition %1"_s.arg(slot.partition));
    }
    rd_kafka_flush(rk->get(), timeoutMs + 1000); // every delivery report, or the message timeout's
    QList<PartitionLag> barriers;
    for (const Slot &slot : marks) {
        if (slot.err != RD_KAFKA_RESP_ERR_NO_ERROR || slot.offset < 0)
            return errors::fromKafka(slot.err == RD_KAFKA_RESP_ERR_NO_ERROR ? RD_KAFKA_RESP_ERR__FAIL : slot.err,
                                     u"barrier on partition %1"_s.arg(slot.partition));
        PartitionLag barrier;
        barrier.partition = slot.partition;
        barrier.logStart = slot.offset;
        barrier.logEnd = slot.offset + 1;
        barriers << barrier;
    }
    std::sort(barriers.begin(), barriers.end(),
              [](const PartitionLag &a, const PartitionLag &b) { return a.partition < b.partition; });
    return barriers;
}

int64_t LagProbe::total(const QList<PartitionLag> &lags)
{
    int64_t sum = 0;
    for (const PartitionLag &lag : lags)
        sum += lag.lag();
    return sum;
}

} // namespace coupon
