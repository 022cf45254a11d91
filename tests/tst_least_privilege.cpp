// Least privilege in the stack the project's scripts run (issue 11): its
// data, logs and secrets are readable by their owner alone, MariaDB reads no
// client-side files (local_infile off), and each role (admin, worker,
// gateway) may do in Redis, Kafka and MySQL only what its code needs. Every
// check here was open before: Redis had no password, Kafka no
// authentication (a message forged onto coupon_create gave a coupon in a
// closed campaign), the worker could change a campaign's limit and the
// gateway read failed events.

#include "testsupport.h"

#include "coupon/kafka/kafka.h"
#include "coupon/redis/redis.h"

#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

// A role's settings: the INI scripts/test names in `configVariable`
// (COUPON_WORKER_CONFIG, COUPON_GATEWAY_CONFIG), plus COUPON_* variables.
Settings roleSettings(const char *configVariable)
{
    SettingsSources sources;
    sources.environment = QProcessEnvironment::systemEnvironment();
    sources.iniPath = sources.environment.value(QString::fromLatin1(configVariable));
    if (sources.iniPath.isEmpty())
        qFatal("%s is not set (run the tests through scripts/test)", configVariable);
    Result<Settings> settings = Settings::load(sources);
    if (!settings)
        qFatal("%s: %s", configVariable, qPrintable(settings.error().message));
    return std::move(settings).value();
}

// Redis' answer to `args` on a fresh connection: empty when it ran.
QString redisRefusal(const RedisSettings &settings, const RedisArgs &args)
{
    RedisConnection redis(settings);
    Result<RedisReplyHandle> r = redis.command(args);
    return r ? QString() : r.error().message;
}

void onDelivery(rd_kafka_t *, const rd_kafka_message_t *m, void *opaque)
{
    *static_cast<rd_kafka_resp_err_t *>(opaque) = m->err;
}

// Produces one message to coupon_create as `settings` says (librdkafka
// properties `extra` on top) and waits for its delivery report's error.
rd_kafka_resp_err_t produceAs(const Settings &settings, const QMap<QString, QString> &extra)
{
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    Result<KafkaHandle> client = newKafkaClient(RD_KAFKA_PRODUCER, settings,
                                                {{u"message.timeout.ms"_s, u"8000"_s}, {u"linger.ms"_s, u"0"_s}}, extra,
                                                [&err](rd_kafka_conf_t *conf) {
                                                    rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
                                                    rd_kafka_conf_set_opaque(conf, &err);
                                                });
    if (!client)
        qFatal("producer: %s", qPrintable(client.error().message));
    KafkaHandle rk = std::move(client).value();
    // What the attack sent: a well-formed message of our protocol, for a
    // campaign that is closed (the worker would have written its coupon).
    const QByteArray topic = settings.kafka.topic.toUtf8();
    const QByteArray key = "4242";
    QByteArray value(8, 0);
    value[7] = char(0x92);
    KafkaHeadersHandle headers(rd_kafka_headers_new(1));
    rd_kafka_header_add(headers.get(), "campaign", -1, "closed-campaign", -1);
    if (rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(topic.constData()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY(key.constData(), size_t(key.size())),
                          RD_KAFKA_V_VALUE(value.data(), size_t(value.size())), RD_KAFKA_V_HEADERS(headers.get()),
                          RD_KAFKA_V_END)
        != RD_KAFKA_RESP_ERR_NO_ERROR)
        qFatal("producev failed");
    headers.release(); // producev took the headers
    const QDeadlineTimer deadline(20000);
    while (err == RD_KAFKA_RESP_ERR__IN_PROGRESS && !deadline.hasExpired())
        rd_kafka_poll(rk.get(), 50);
    return err;
}

// Consumes coupon_create as `settings` says: subscribed in group `group`
// (the group's way), or, with no group, by assigning partition 0 from its
// start (no group coordinator involved: the topic's READ alone is asked).
// Returns the first error the consumer reports, or NO_ERROR if it read a
// message, within 20 s.
rd_kafka_resp_err_t consumeAs(const Settings &settings, const QString &group)
{
    const bool subscribe = !group.isEmpty();
    QMap<QString, QString> defaults{{u"enable.auto.commit"_s, u"false"_s}, {u"auto.offset.reset"_s, u"earliest"_s}};
    if (subscribe)
        defaults.insert(u"group.id"_s, group);
    Result<KafkaHandle> client = newKafkaClient(RD_KAFKA_CONSUMER, settings, defaults, {});
    if (!client)
        qFatal("consumer: %s", qPrintable(client.error().message));
    KafkaHandle rk = std::move(client).value();
    const QByteArray topic = settings.kafka.topic.toUtf8();
    rd_kafka_resp_err_t result = RD_KAFKA_RESP_ERR__TIMED_OUT;
    const QDeadlineTimer deadline(20000);
    if (subscribe) {
        rd_kafka_poll_set_consumer(rk.get());
        KafkaPartitionListHandle list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), topic.constData(), RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
            qFatal("subscribe failed");
        while (!deadline.hasExpired()) {
            KafkaMessageHandle m(rd_kafka_consumer_poll(rk.get(), 100));
            if (!m || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                continue;
            result = m->err;
            break;
        }
        rd_kafka_consumer_close(rk.get());
        return result;
    }
    // librdkafka's simple consumer: fetches, with no group at all.
    KafkaTopicHandle rkt(rd_kafka_topic_new(rk.get(), topic.constData(), nullptr));
    if (rd_kafka_consume_start(rkt.get(), 0, RD_KAFKA_OFFSET_BEGINNING) != 0)
        qFatal("consume_start failed");
    while (!deadline.hasExpired()) {
        KafkaMessageHandle m(rd_kafka_consume(rkt.get(), 0, 100));
        if (!m || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            continue;
        result = m->err;
        break;
    }
    rd_kafka_consume_stop(rkt.get(), 0);
    return result;
}

QString errName(rd_kafka_resp_err_t err)
{
    return QString::fromLatin1(rd_kafka_err2name(err));
}

} // namespace

class TestLeastPrivilege : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();
    Settings m_worker = roleSettings("COUPON_WORKER_CONFIG");
    Settings m_gateway = roleSettings("COUPON_GATEWAY_CONFIG");

    QSqlDatabase open(const Settings &settings, const QString &name)
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QMYSQL"_s, name);
        db.setHostName(settings.mysql.host);
        db.setPort(settings.mysql.port);
        db.setDatabaseName(settings.mysql.database);
        db.setUserName(settings.mysql.user);
        db.setPassword(settings.mysql.password);
        if (!db.open())
            qFatal("MySQL as %s: %s", qPrintable(settings.mysql.user), qPrintable(db.lastError().text()));
        return db;
    }

private slots:
    void stackFilesAreTheOwnersAlone()
    {
        const QString stack = QProcessEnvironment::systemEnvironment().value(u"COUPON_STACK_DIR"_s);
        QVERIFY2(!stack.isEmpty() && QFileInfo(stack).isDir(),
                 "COUPON_STACK_DIR is not set (run through scripts/test)");
        constexpr QFileDevice::Permissions kOthers = QFileDevice::ReadGroup | QFileDevice::WriteGroup
            | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;
        QStringList open;
        int seen = 0;
        QDirIterator it(stack, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QFileInfo info(it.next());
            if (info.isSymLink() || info.fileName().endsWith(u".sock"_s) || info.fileName() == u"mysqld.sock.lock"_s)
                continue; // a socket's mode is not what guards it; the folder above it is
            ++seen;
            if (info.permissions() & kOthers)
                open << u"%1 (%2)"_s.arg(info.filePath()).arg(int(info.permissions()), 0, 16);
        }
        QVERIFY2(seen > 10, "the stack folder is nearly empty");
        QVERIFY2(open.isEmpty(),
                 qPrintable(u"%1 of %2 entries readable beyond their owner, e.g.: %3"_s.arg(open.size())
                                .arg(seen)
                                .arg(open.mid(0, 5).join(u", "_s))));
    }

    void mariadbReadsNoClientFiles()
    {
        QSqlDatabase db = open(m_settings, u"tst_least_privilege"_s);
        QSqlQuery q(db);
        QVERIFY2(q.exec(u"SELECT @@local_infile"_s) && q.next(), qPrintable(q.lastError().text()));
        QCOMPARE(q.value(0).toInt(), 0);
        q.finish();
        db.close();
    }

    // Redis' default user (no name, no password) may do nothing; a wrong
    // password is named by its settings, and never shown.
    void redisWithoutCredentialsIsRefused()
    {
        RedisSettings anonymous = m_settings.redis;
        anonymous.user.clear();
        anonymous.password.clear();
        RedisConnection redis(anonymous);
        const Status connected = redis.connect();
        QVERIFY2(!connected, "Redis answered a client that gave no user and no password");
        QVERIFY2(connected.error().is(Errc::RedisAuth), qPrintable(connected.error().message));
        QVERIFY2(connected.error().message.contains(u"redis.user"_s), qPrintable(connected.error().message));

        RedisSettings wrong = m_gateway.redis;
        QVERIFY2(!wrong.user.isEmpty(), "the gateway's INI names no Redis user");
        wrong.password = u"not-the-password-4f8a"_s;
        RedisConnection guessing(wrong);
        const Status guessed = guessing.connect();
        QVERIFY2(!guessed, "Redis took a wrong password");
        QVERIFY2(guessed.error().message.contains(u"redis.user/redis.password"_s), qPrintable(guessed.error().message));
        QVERIFY2(!guessed.error().message.contains(wrong.password), qPrintable(guessed.error().message));
    }

    // The ACLs must not cost data: Redis 7.0 replays its append-only file as
    // the default user and re-checks every MULTI/EXEC block (the form a Lua
    // script's writes take there) against that user's ACL. With the default
    // user off, a restart silently dropped every reservation.
    void redisRestartUnderTheAclsKeepsScriptWrites()
    {
        const QString stack = QProcessEnvironment::systemEnvironment().value(u"COUPON_STACK_DIR"_s);
        const QString aclfile = stack + u"/redis/users.acl"_s;
        QVERIFY2(QFileInfo(aclfile).isFile(), qPrintable(aclfile + u": no ACL file in the stack"_s));
        test::RedisServer redis({u"--aclfile"_s, aclfile});
        QVERIFY2(redis.start().isEmpty(), "redis-server did not start");
        RedisSettings admin = redis.pointed(m_settings).redis;
        admin.user = m_settings.redis.user; // the stack's users, on this Redis too
        admin.password = m_settings.redis.password;
        RedisConnection connection(admin);
        Result<RedisReplyHandle> ran = connection.command(
            {"EVAL", "redis.call('SADD', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])", "2",
             "coupon:{lp}:users", "coupon:{lp}:count", "42"});
        QVERIFY2(ran.ok(), qPrintable(ran ? QString() : ran.error().message));
        // appendfsync everysec: wait until the write is in the file, then crash.
        QVERIFY(test::waitFor(
            [&] {
                QFile aof(redis.incrAof());
                return aof.open(QIODevice::ReadOnly) && aof.readAll().contains("coupon:{lp}:count");
            },
            10000));
        redis.kill9();
        QVERIFY2(redis.start().isEmpty(), "redis-server did not come back");
        RedisConnection again(admin);
        QVERIFY(test::waitFor([&] { return again.connect().ok(); }, 10000));
        Result<RedisReplyHandle> count = again.command({"GET", "coupon:{lp}:count"});
        QVERIFY2(count.ok(), qPrintable(count ? QString() : count.error().message));
        QCOMPARE(QByteArray((*count)->str, qsizetype((*count)->len)), QByteArray("1"));
        Result<RedisReplyHandle> member = again.command({"SISMEMBER", "coupon:{lp}:users", "42"});
        QVERIFY2(member.ok(), qPrintable(member ? QString() : member.error().message));
        QCOMPARE((*member)->integer, 1LL);
    }

    // The gateway's Redis user: only the commands its code sends (the Lua
    // scripts' included), only on coupon:* keys.
    void redisGatewayUserTouchesOnlyCouponKeys()
    {
        const RedisSettings gw = m_gateway.redis;
        QCOMPARE(redisRefusal(gw, {"GET", "coupon:{lp}:count"}), QString()); // it works at all
        const QList<RedisArgs> forbidden{
            {"FLUSHALL"},
            {"FLUSHDB"},
            {"CONFIG", "GET", "dir"},
            {"CONFIG", "SET", "appendonly", "no"},
            {"KEYS", "*"},
            {"SCRIPT", "FLUSH"},
            {"ACL", "WHOAMI"},
            {"SHUTDOWN", "NOSAVE"},
            {"SET", "elsewhere", "1"},
            {"GET", "elsewhere"},
            {"DEL", "elsewhere"},
            {"EVAL", "return 1", "0"},
            {"HSET", "coupon:{lp}:meta", "limit", "1000000"}, // not a command the gateway sends
        };
        for (const RedisArgs &args : forbidden) {
            const QString refusal = redisRefusal(gw, args);
            QVERIFY2(
                refusal.startsWith(u"NOPERM"_s),
                qPrintable(u"%1: %2"_s.arg(QString::fromUtf8(args.front()), refusal.isEmpty() ? u"ran"_s : refusal)));
        }
        // A script runs under its caller's ACL: a key outside coupon:* is
        // refused inside it too.
        RedisConnection redis(gw);
        Result<RedisReplyHandle> loaded = redis.command({"SCRIPT", "LOAD", "return redis.call('SET', KEYS[1], '1')"});
        QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().message));
        const QByteArray sha((*loaded)->str, qsizetype((*loaded)->len));
        Result<RedisReplyHandle> outside = redis.command({"EVALSHA", sha, "1", "elsewhere"});
        QVERIFY2(!outside.ok(), "a script of the gateway wrote a key outside coupon:*");
        const QString why = outside.error().message;
        QVERIFY2(why.contains(u"NOPERM"_s) || why.contains(u"No permissions"_s), qPrintable(why));
    }

    // The worker's user: no administration either.
    void redisWorkerUserHasNoAdministration()
    {
        for (const RedisArgs &args :
             QList<RedisArgs>{{"FLUSHALL"}, {"CONFIG", "GET", "dir"}, {"KEYS", "*"}, {"SET", "elsewhere", "1"}}) {
            const QString refusal = redisRefusal(m_worker.redis, args);
            QVERIFY2(
                refusal.startsWith(u"NOPERM"_s),
                qPrintable(u"%1: %2"_s.arg(QString::fromUtf8(args.front()), refusal.isEmpty() ? u"ran"_s : refusal)));
        }
    }

    // The attack: a message forged onto coupon_create gave a coupon in a
    // closed campaign. Only the roles' principals may write the topic: the
    // gateway (applies), the operator's admin, and the worker (its
    // reconciler's barriers; it writes coupons into MySQL anyway, so the
    // topic gives it nothing more). A client without credentials, or with
    // a guessed password, gets nowhere.
    void kafkaOnlyTheRolesWriteTheTopic()
    {
        const rd_kafka_resp_err_t asWorker = produceAs(m_worker, {{u"enable.idempotence"_s, u"false"_s}});
        QVERIFY2(asWorker == RD_KAFKA_RESP_ERR_NO_ERROR, qPrintable(errName(asWorker)));

        const rd_kafka_resp_err_t anonymous = produceAs(
            m_worker, {{u"enable.idempotence"_s, u"false"_s}, {u"security.protocol"_s, u"plaintext"_s}});
        QVERIFY2(anonymous != RD_KAFKA_RESP_ERR_NO_ERROR, "a client without credentials wrote coupon_create");

        Settings wrong = m_gateway;
        wrong.kafka.properties[u"sasl.password"_s] = u"not-the-password-4f8a"_s;
        const rd_kafka_resp_err_t guessed = produceAs(wrong, {});
        QVERIFY2(guessed != RD_KAFKA_RESP_ERR_NO_ERROR, "a wrong password wrote coupon_create");
    }

    // The gateway's principal may not read the topic nor join group_1.
    void kafkaTheGatewayReadsNothing()
    {
        const rd_kafka_resp_err_t read = consumeAs(m_gateway, {});
        QVERIFY2(read == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, qPrintable(errName(read)));
        const rd_kafka_resp_err_t joined = consumeAs(m_gateway, m_gateway.worker.group);
        QVERIFY2(joined == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, qPrintable(errName(joined)));
    }

    // The worker writes coupons, failed events and campaign.issued, and
    // nothing else of a campaign: not its limit, not its state.
    void mysqlWorkerCannotChangeLimits()
    {
        QSqlDatabase db = open(m_worker, u"tst_least_privilege_worker"_s);
        QSqlQuery q(db);
        // No row matches: what is checked is the privilege, before any row.
        QVERIFY2(q.exec(u"UPDATE campaign SET issued = issued WHERE id = 'no-such-campaign'"_s),
                 qPrintable(q.lastError().text()));
        for (const QString &column : {u"coupon_limit"_s, u"state"_s}) {
            QVERIFY2(!q.exec(u"UPDATE campaign SET %1 = %1 WHERE id = 'no-such-campaign'"_s.arg(column)),
                     qPrintable(u"the worker may UPDATE campaign.%1"_s.arg(column)));
            QVERIFY2(q.lastError().text().contains(u"denied"_s), qPrintable(q.lastError().text()));
        }
        QVERIFY2(!q.exec(u"DELETE FROM coupon WHERE campaign_id = 'no-such-campaign'"_s),
                 "the worker may DELETE coupons");
        q.finish();
        db.close();
    }

    // The gateway reads campaigns and coupons; failed events (the raw bytes
    // of whatever reached the topic) are none of its business.
    void mysqlGatewayCannotReadFailedEvents()
    {
        QSqlDatabase db = open(m_gateway, u"tst_least_privilege_gateway"_s);
        QSqlQuery q(db);
        QVERIFY2(q.exec(u"SELECT COUNT(*) FROM campaign"_s), qPrintable(q.lastError().text()));
        QVERIFY2(!q.exec(u"SELECT COUNT(*) FROM failed_event"_s), "the gateway may SELECT failed_event");
        QVERIFY2(q.lastError().text().contains(u"denied"_s), qPrintable(q.lastError().text()));
        QVERIFY2(!q.exec(u"UPDATE campaign SET state = state WHERE id = 'no-such-campaign'"_s),
                 "the gateway may UPDATE campaign");
        q.finish();
        db.close();
    }
};

QTEST_GUILESS_MAIN(TestLeastPrivilege)
#include "tst_least_privilege.moc"
