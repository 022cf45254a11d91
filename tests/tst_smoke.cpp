// Reaches all three real servers of the stack: Redis through hiredis, MariaDB
// through Qt's QMYSQL driver, Kafka through librdkafka on coupon_create.
// Never skipped: a missing server is a failure that names the endpoint.

#include "coupon/kafka/kafka.h"
#include "coupon/kafka/kafka_handles.h"
#include "coupon/redis/redis_handles.h"
#include "testsupport.h"

#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QUuid>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

struct Delivery
{
    bool done = false;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    int32_t partition = -1;
    int64_t offset = -1;
};

void onDelivery(rd_kafka_t *, const rd_kafka_message_t *message, void *)
{
    auto *delivery = static_cast<Delivery *>(message->_private);
    delivery->done = true;
    delivery->err = message->err;
    delivery->partition = message->partition;
    delivery->offset = message->offset;
}

KafkaConfHandle kafkaConf(const Settings &settings)
{
    Result<KafkaConfHandle> conf = makeKafkaConf(settings, {}, {});
    if (!conf)
        qFatal("%s", qPrintable(conf.error().message));
    return std::move(conf).value();
}

} // namespace

class TestSmoke : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();

private slots:
    void redisAnswersPing()
    {
        const timeval timeout{2, 0};
        const QByteArray host = m_settings.redis.host.toUtf8();
        RedisContextHandle redis(redisConnectWithTimeout(host.constData(), m_settings.redis.port, timeout));
        QVERIFY2(redis, "hiredis could not allocate a context");
        QVERIFY2(!redis->err,
                 qPrintable(u"Redis at %1:%2 unreachable: %3"_s.arg(m_settings.redis.host)
                                .arg(m_settings.redis.port)
                                .arg(QString::fromUtf8(redis->errstr))));
        const QByteArray user = m_settings.redis.user.toUtf8();
        const QByteArray password = m_settings.redis.password.toUtf8();
        if (!user.isEmpty()) {
            RedisReplyHandle auth(
                static_cast<redisReply *>(redisCommand(redis.get(), "AUTH %b %b", user.constData(), size_t(user.size()),
                                                       password.constData(), size_t(password.size()))));
            QVERIFY2(auth && auth->type != REDIS_REPLY_ERROR, "Redis AUTH failed");
        } else if (!password.isEmpty()) {
            RedisReplyHandle auth(static_cast<redisReply *>(
                redisCommand(redis.get(), "AUTH %b", password.constData(), size_t(password.size()))));
            QVERIFY2(auth && auth->type != REDIS_REPLY_ERROR, "Redis AUTH failed");
        }
        RedisReplyHandle reply(static_cast<redisReply *>(redisCommand(redis.get(), "PING")));
        QVERIFY2(reply, qPrintable(u"Redis PING failed: %1"_s.arg(QString::fromUtf8(redis->errstr))));
        QCOMPARE(reply->type, REDIS_REPLY_STATUS);
        QCOMPARE(QByteArray(reply->str, qsizetype(reply->len)), QByteArray("PONG"));
    }

    void mysqlAnswersAQuery()
    {
        QVERIFY2(QSqlDatabase::isDriverAvailable(u"QMYSQL"_s),
                 "Qt's QMYSQL driver is missing (Debian package libqt6sql6-mysql)");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(u"QMYSQL"_s, u"smoke"_s);
            db.setHostName(m_settings.mysql.host);
            db.setPort(m_settings.mysql.port);
            db.setDatabaseName(m_settings.mysql.database);
            db.setUserName(m_settings.mysql.user);
            db.setPassword(m_settings.mysql.password);
            db.setConnectOptions(u"MYSQL_OPT_CONNECT_TIMEOUT=3;"_s + m_settings.mysql.connectOptions);
            QVERIFY2(db.open(),
                     qPrintable(u"MariaDB at %1:%2 (database %3, user %4): %5"_s.arg(m_settings.mysql.host)
                                    .arg(m_settings.mysql.port)
                                    .arg(m_settings.mysql.database, m_settings.mysql.user, db.lastError().text())));
            QSqlQuery query(db);
            QVERIFY2(query.exec(u"SELECT 6 * 7, DATABASE(), @@sql_mode"_s), qPrintable(query.lastError().text()));
            QVERIFY(query.next());
            QCOMPARE(query.value(0).toInt(), 42);
            QCOMPARE(query.value(1).toString(), m_settings.mysql.database);
            QVERIFY2(query.value(2).toString().contains(u"STRICT_"_s),
                     qPrintable(u"server sql_mode is not strict: "_s + query.value(2).toString()));
        }
        QSqlDatabase::removeDatabase(u"smoke"_s);
    }

    void kafkaRoundTripOnCouponCreate()
    {
        const QByteArray topic = m_settings.kafka.topic.toUtf8();
        char errstr[512];

        // Produce one message with the idempotent producer and learn where it landed.
        KafkaConfHandle pconf = kafkaConf(m_settings);
        QCOMPARE(rd_kafka_conf_set(pconf.get(), "enable.idempotence", "true", errstr, sizeof errstr), RD_KAFKA_CONF_OK);
        QCOMPARE(rd_kafka_conf_set(pconf.get(), "message.timeout.ms", "15000", errstr, sizeof errstr),
                 RD_KAFKA_CONF_OK);
        rd_kafka_conf_set_dr_msg_cb(pconf.get(), onDelivery);
        // rd_kafka_new takes ownership of the conf only on success.
        KafkaHandle producer(rd_kafka_new(RD_KAFKA_PRODUCER, pconf.get(), errstr, sizeof errstr));
        QVERIFY2(producer, errstr);
        pconf.release();

        const QByteArray key = QUuid::createUuid().toByteArray(QUuid::WithoutBraces);
        const QByteArray value = "smoke-" + key;
        Delivery delivery;
        const rd_kafka_resp_err_t err = rd_kafka_producev(
            producer.get(), RD_KAFKA_V_TOPIC(topic.constData()), RD_KAFKA_V_KEY(key.constData(), size_t(key.size())),
            RD_KAFKA_V_VALUE(const_cast<char *>(value.constData()), size_t(value.size())),
            RD_KAFKA_V_HEADER("smoke", "1", 1), RD_KAFKA_V_OPAQUE(&delivery), RD_KAFKA_V_END);
        QVERIFY2(err == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(err));
        const QDeadlineTimer deadline(20000);
        while (!delivery.done && !deadline.hasExpired())
            rd_kafka_poll(producer.get(), 100);
        QVERIFY2(
            delivery.done,
            qPrintable(u"no delivery report from Kafka at %1 within 20 s"_s.arg(m_settings.kafka.bootstrapServers())));
        QVERIFY2(delivery.err == RD_KAFKA_RESP_ERR_NO_ERROR,
                 qPrintable(u"produce to %1 at %2 failed: %3"_s.arg(
                     m_settings.kafka.topic, m_settings.kafka.bootstrapServers(),
                     QString::fromUtf8(rd_kafka_err2str(delivery.err)))));

        // Read it back from exactly that partition and offset, without a group.
        KafkaConfHandle cconf = kafkaConf(m_settings);
        // librdkafka wants a group even for assign(); nothing is committed to it.
        const QByteArray group = "smoke-" + key;
        QCOMPARE(rd_kafka_conf_set(cconf.get(), "group.id", group.constData(), errstr, sizeof errstr),
                 RD_KAFKA_CONF_OK);
        QCOMPARE(rd_kafka_conf_set(cconf.get(), "enable.auto.commit", "false", errstr, sizeof errstr),
                 RD_KAFKA_CONF_OK);
        KafkaHandle consumer(rd_kafka_new(RD_KAFKA_CONSUMER, cconf.get(), errstr, sizeof errstr));
        QVERIFY2(consumer, errstr);
        cconf.release();
        KafkaPartitionListHandle assignment(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(assignment.get(), topic.constData(), delivery.partition)->offset
            = delivery.offset;
        QCOMPARE(rd_kafka_assign(consumer.get(), assignment.get()), RD_KAFKA_RESP_ERR_NO_ERROR);

        bool found = false;
        const QDeadlineTimer readDeadline(20000);
        while (!found && !readDeadline.hasExpired()) {
            KafkaMessageHandle message(rd_kafka_consumer_poll(consumer.get(), 200));
            if (!message)
                continue;
            QVERIFY2(message->err == RD_KAFKA_RESP_ERR_NO_ERROR || message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF,
                     rd_kafka_message_errstr(message.get()));
            if (message->err)
                continue;
            QCOMPARE(message->offset, delivery.offset);
            QCOMPARE(QByteArray(static_cast<const char *>(message->key), qsizetype(message->key_len)), key);
            QCOMPARE(QByteArray(static_cast<const char *>(message->payload), qsizetype(message->len)), value);
            found = true;
        }
        QVERIFY2(found, "the produced message did not come back within 20 s");
        rd_kafka_consumer_close(consumer.get());
    }
};

QTEST_GUILESS_MAIN(TestSmoke)
#include "tst_smoke.moc"
