#include "tutorial.h"

#include "coupon/kafka/kafka.h"
#include "coupon/kafka/kafka_handles.h"
#include "coupon/loadgen/simulation.h"
#include "coupon/protocol/codec.h"
#include "coupon/redis/redis.h"
#include "coupon/redis/redis_handles.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>
#include <QtEndian>

#include <atomic>
#include <thread>
#include <vector>

using namespace Qt::StringLiterals;

namespace coupon::bench {

TutorialApplyReport tutorialApply(const Settings &settings, const QString &topic, const QByteArray &counterKey,
                                  qint64 limit, qint64 users, int duplicatePercent, int threads)
{
    SimulationOptions options;
    options.users = users;
    options.duplicatePercent = duplicatePercent;
    const std::vector<qint64> attempts = simulationAttempts(options);

    // Spring Kafka 2.x defaults of the tutorial: acks=1, no idempotence, no linger.
    Result<KafkaConfHandle> conf = makeKafkaConf(settings, {{u"linger.ms"_s, u"0"_s}},
                                                 {{u"acks"_s, u"1"_s}, {u"enable.idempotence"_s, u"false"_s}});
    if (!conf)
        qFatal("%s", qPrintable(conf.error().message));
    char errstr[512];
    KafkaHandle producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof errstr));
    if (!producer)
        qFatal("%s", errstr);
    (void)conf.value().release(); // owned by the producer
    const QByteArray topicName = topic.toUtf8();

    std::atomic<size_t> next{0};
    std::atomic<qint64> accepted{0};
    std::atomic<bool> polling{true};
    std::thread poller([&] {
        while (polling.load())
            rd_kafka_poll(producer.get(), 50); // reports are read and dropped: fire and forget
    });
    QElapsedTimer clock;
    clock.start();
    std::vector<std::thread> workers;
    workers.reserve(size_t(threads));
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            RedisConnection redis(settings.redis);
            for (size_t i = next.fetch_add(1); i < attempts.size(); i = next.fetch_add(1)) {
                Result<RedisReplyHandle> count = redis.command({"INCR", counterKey});
                if (!count || replyInteger(count->get()).value_or(limit + 1) > limit)
                    continue; // the counter keeps growing past the limit
                accepted.fetch_add(1);
                const QByteArray value = codec::encodeValue(attempts[i]);
                rd_kafka_producev(
                    producer.get(), RD_KAFKA_V_TOPIC(topicName.constData()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE(const_cast<char *>(value.constData()), size_t(value.size())), RD_KAFKA_V_END);
            }
        });
    }
    for (std::thread &w : workers)
        w.join();
    TutorialApplyReport report;
    report.seconds = double(clock.nsecsElapsed()) / 1e9; // the tutorial answers before Kafka has it
    report.attempts = qint64(attempts.size());
    report.accepted = accepted.load();
    polling.store(false);
    poller.join();
    rd_kafka_flush(producer.get(), 60000);
    return report;
}

TutorialConsumeReport tutorialConsume(const Settings &settings, const QString &topic, qint64 expected, int timeoutMs)
{
    const QString group = u"tutorial-"_s + QString::number(QRandomGenerator::global()->generate64(), 36);
    Result<KafkaConfHandle> conf = makeKafkaConf(
        settings, {},
        {{u"group.id"_s, group}, {u"auto.offset.reset"_s, u"earliest"_s}, {u"enable.auto.commit"_s, u"true"_s}});
    if (!conf)
        qFatal("%s", qPrintable(conf.error().message));
    char errstr[512];
    KafkaHandle consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof errstr));
    if (!consumer)
        qFatal("%s", errstr);
    (void)conf.value().release(); // owned by the consumer
    rd_kafka_poll_set_consumer(consumer.get());
    KafkaPartitionListHandle topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), topic.toUtf8().constData(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer.get(), topics.get());

    TutorialConsumeReport report;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QMYSQL"_s, u"tutorial"_s);
        db.setHostName(settings.mysql.host);
        db.setPort(settings.mysql.port);
        db.setDatabaseName(settings.mysql.database);
        db.setUserName(settings.mysql.user);
        db.setPassword(settings.mysql.password);
        if (!db.open())
            qFatal("%s", qPrintable(db.lastError().text()));
        QSqlQuery insert(db);
        insert.prepare(u"INSERT INTO tutorial_coupon (user_id) VALUES (?)"_s); // autocommit: one transaction per row
        QElapsedTimer clock;
        const QDeadlineTimer deadline(timeoutMs);
        while (report.rows < expected && !deadline.hasExpired()) {
            KafkaMessageHandle message(rd_kafka_consumer_poll(consumer.get(), 100));
            if (!message || message->err || message->len != 8)
                continue;
            if (!clock.isValid())
                clock.start();
            insert.addBindValue(qFromBigEndian<qint64>(message->payload));
            if (!insert.exec())
                qFatal("%s", qPrintable(insert.lastError().text()));
            ++report.rows;
        }
        report.seconds = clock.isValid() ? double(clock.nsecsElapsed()) / 1e9 : 0;
    }
    QSqlDatabase::removeDatabase(u"tutorial"_s);
    rd_kafka_consumer_close(consumer.get());
    return report;
}

} // namespace coupon::bench
