#include "coupon/base/settings.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using coupon::Settings;
using coupon::SettingsSources;

class TestSettings : public QObject
{
    Q_OBJECT

private:
    QString writeIni(const QByteArray &content)
    {
        const QString path = m_dir.filePath(u"settings-%1.ini"_s.arg(++m_files));
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            qFatal("cannot write %s", qPrintable(path));
        file.write(content);
        return path;
    }

    QTemporaryDir m_dir;
    int m_files = 0;

private slots:
    void defaultsReproduceTheTutorial()
    {
        const auto s = Settings::load(SettingsSources{});
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
        QCOMPARE(s->kafka.topic, u"coupon_create"_s);
        QCOMPARE(s->worker.group, u"group_1"_s);
        QCOMPARE(s->kafka.bootstrapServers(), u"127.0.0.1:9092"_s);
        QCOMPARE(s->redis.port, quint16(6379));
        QCOMPARE(s->mysql.port, quint16(3306));
    }

    void precedence_data()
    {
        QTest::addColumn<QByteArray>("ini");
        QTest::addColumn<QString>("env");
        QTest::addColumn<QString>("flag");
        QTest::addColumn<int>("expectedPort");

        QTest::newRow("default") << QByteArray() << QString() << QString() << 6379;
        QTest::newRow("ini") << QByteArray("[redis]\nport=7001\n") << QString() << QString() << 7001;
        QTest::newRow("env beats ini") << QByteArray("[redis]\nport=7001\n") << u"7002"_s << QString() << 7002;
        QTest::newRow("flag beats env") << QByteArray("[redis]\nport=7001\n") << u"7002"_s << u"7003"_s << 7003;
        QTest::newRow("flag beats ini") << QByteArray("[redis]\nport=7001\n") << QString() << u"7003"_s << 7003;
        QTest::newRow("env alone") << QByteArray() << u"7002"_s << QString() << 7002;
    }

    void precedence()
    {
        QFETCH(QByteArray, ini);
        QFETCH(QString, env);
        QFETCH(QString, flag);
        QFETCH(int, expectedPort);

        SettingsSources sources;
        if (!ini.isEmpty())
            sources.iniPath = writeIni(ini);
        if (!env.isEmpty())
            sources.environment.insert(u"COUPON_REDIS_PORT"_s, env);
        if (!flag.isEmpty())
            sources.overrides.emplace_back(u"redis.port"_s, flag);

        const auto s = Settings::load(sources);
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
        QCOMPARE(int(s->redis.port), expectedPort);
    }

    void invalidValues_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expectedMessage");

        QTest::newRow("port text") << u"redis.port"_s << u"abc"_s
                                   << u"redis.port = \"abc\": must be a TCP port, 1..65535"_s;
        QTest::newRow("port zero") << u"mysql.port"_s << u"0"_s
                                   << u"mysql.port = \"0\": must be a TCP port, 1..65535"_s;
        QTest::newRow("port too big") << u"redis.port"_s << u"65536"_s
                                      << u"redis.port = \"65536\": must be a TCP port, 1..65535"_s;
        QTest::newRow("empty host") << u"redis.host"_s << u" "_s << u"redis.host = \" \": must not be empty"_s;
        QTest::newRow("batch range") << u"worker.batch.size"_s << u"0"_s
                                     << u"worker.batch.size = \"0\": must be an integer in 1..100000"_s;
        QTest::newRow("redis db") << u"redis.db"_s << u"16"_s << u"redis.db = \"16\": must be an integer in 0..15"_s;
        QTest::newRow("auth mode") << u"gateway.auth"_s << u"basic"_s
                                   << u"gateway.auth = \"basic\": must be one of: jwt, none"_s;
        QTest::newRow("proxy not an address")
            << u"gateway.trusted.proxies"_s << u"10.0.0.1,proxy.internal"_s
            << u"gateway.trusted.proxies = \"10.0.0.1,proxy.internal\": must be IP addresses or subnets, "
               "comma-separated, e.g. 10.0.0.0/8,192.168.1.7"_s;
        QTest::newRow("proxy prefix") << u"gateway.trusted.proxies"_s << u"10.0.0.0/33"_s
                                      << u"gateway.trusted.proxies = \"10.0.0.0/33\": must be IP addresses or "
                                         "subnets, comma-separated, e.g. 10.0.0.0/8,192.168.1.7"_s;
        QTest::newRow("sentinel without a port")
            << u"redis.sentinels"_s << u"10.0.0.1:26379,10.0.0.2"_s
            << u"redis.sentinels = \"10.0.0.1:26379,10.0.0.2\": must be host:port pairs, comma-separated, "
               "e.g. 10.0.0.1:26379,10.0.0.2:26379"_s;
        QTest::newRow("worker admin not host:port")
            << u"worker.admin.listen"_s << u"8091"_s
            << u"worker.admin.listen = \"8091\": must be host:port, e.g. 127.0.0.1:8091 (port 0 picks a free one), "
               "or off (or empty) for none"_s;
        QTest::newRow("unknown key") << u"redis.hots"_s << u"x"_s << u"unknown setting redis.hots (from --set)"_s;
    }

    void invalidValues()
    {
        QFETCH(QString, key);
        QFETCH(QString, value);
        QFETCH(QString, expectedMessage);

        SettingsSources sources;
        sources.overrides.emplace_back(key, value);
        const auto s = Settings::load(sources);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().message, expectedMessage);
    }

    void workerAdminListenDefaultsAndOff_data()
    {
        QTest::addColumn<QString>("value"); // null: the default
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::newRow("default") << QString() << u"127.0.0.1"_s << 8091;
        QTest::newRow("set") << u"0.0.0.0:9100"_s << u"0.0.0.0"_s << 9100;
        QTest::newRow("off") << u"off"_s << QString() << 0;
        QTest::newRow("empty") << u""_s << QString() << 0;
    }

    void workerAdminListenDefaultsAndOff()
    {
        QFETCH(QString, value);
        QFETCH(QString, host);
        QFETCH(int, port);
        SettingsSources sources;
        if (!value.isNull())
            sources.overrides.emplace_back(u"worker.admin.listen"_s, value);
        const auto s = Settings::load(sources);
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
        QCOMPARE(s->worker.adminHost, host);
        QCOMPARE(int(s->worker.adminPort), port);
    }

    void unknownIniKeyNamesTheFile()
    {
        SettingsSources sources;
        sources.iniPath = writeIni("[mysql]\nhots=db\n");
        const auto s = Settings::load(sources);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, u"config.unknown"_s);
        QVERIFY2(s.error().message.contains(u"mysql.hots"_s), qPrintable(s.error().message));
        QVERIFY2(s.error().message.contains(sources.iniPath), qPrintable(s.error().message));
    }

    void missingIniFileIsAnError()
    {
        SettingsSources sources;
        sources.iniPath = m_dir.filePath(u"nope.ini"_s);
        const auto s = Settings::load(sources);
        QVERIFY(!s.ok());
        QCOMPARE(s.error().code, u"config.file"_s);
    }

    void trustedProxiesAreSubnets()
    {
        SettingsSources sources;
        sources.overrides.emplace_back(u"gateway.trusted.proxies"_s, u"10.0.0.0/8, 192.168.1.7,::1"_s);
        const auto s = Settings::load(sources);
        QVERIFY2(s.ok(), qPrintable(s ? QString() : s.error().message));
        QCOMPARE(s->gateway.trustedProxies, (QStringList{u"10.0.0.0/8"_s, u"192.168.1.7/32"_s, u"::1/128"_s}));
        QVERIFY(s->gateway.auth.enabled); // jwt unless said otherwise
    }

    void sentinelsAreHostPorts()
    {
        SettingsSources sources;
        sources.iniPath = writeIni("[redis]\nsentinels=10.0.0.1:26379, s2.internal:26380\nsentinel.password=pw\n");
        const auto s = Settings::load(sources);
        QVERIFY2(s.ok(), qPrintable(s ? QString() : s.error().message));
        QVERIFY(s->redis.usesSentinels());
        QCOMPARE(s->redis.sentinels.size(), 2);
        QCOMPARE(s->redis.sentinels.at(1).first, u"s2.internal"_s);
        QCOMPARE(s->redis.sentinels.at(1).second, quint16(26380));
        QCOMPARE(s->redis.masterName, u"coupon"_s);
        QVERIFY(!s->describe().join(u'\n').contains(u"pw"_s)); // the Sentinel's password is a secret
        QVERIFY(!Settings::load({}).value().redis.usesSentinels());
    }

    void kafkaPropertiesPassThrough()
    {
        SettingsSources sources;
        sources.iniPath = writeIni("[kafka]\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
                                   "bootstrap.servers=\"b1:9092,b2:9092\"\n");
        sources.environment.insert(u"COUPON_KAFKA_SASL_USERNAME"_s, u"alice"_s);
        sources.environment.insert(u"COUPON_STACK_DIR"_s, u"/tmp/ignored"_s); // belongs to scripts
        const auto s = Settings::load(sources);
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
        QCOMPARE(s->kafka.properties.value(u"security.protocol"_s), u"SASL_SSL"_s);
        QCOMPARE(s->kafka.properties.value(u"sasl.mechanism"_s), u"PLAIN"_s);
        QCOMPARE(s->kafka.properties.value(u"sasl.username"_s), u"alice"_s);
        QCOMPARE(s->kafka.bootstrapServers(), u"b1:9092,b2:9092"_s);
        QVERIFY(!s->kafka.properties.contains(u"topic"_s));
    }

    void unquotedCommaListIsKeptWhole()
    {
        SettingsSources sources;
        sources.iniPath = writeIni("[kafka]\nbootstrap.servers=b1:9092,b2:9092\n");
        const auto s = Settings::load(sources);
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
        QCOMPARE(s->kafka.bootstrapServers(), u"b1:9092,b2:9092"_s);
    }

    void secretsNeverShown()
    {
        SettingsSources sources;
        sources.overrides.emplace_back(u"mysql.password"_s, u"hunter2"_s);
        sources.overrides.emplace_back(u"kafka.sasl.password"_s, u"s3cret"_s);
        sources.overrides.emplace_back(u"redis.password"_s, u"pw"_s);
        const auto s = Settings::load(sources);
        QVERIFY(s.ok());
        QCOMPARE(s->mysql.password, u"hunter2"_s);
        const QString described = s->describe().join(u'\n');
        QVERIFY(!described.contains(u"hunter2"_s));
        QVERIFY(!described.contains(u"s3cret"_s));
        QVERIFY(described.contains(u"mysql.password = ***"_s));
        QVERIFY(described.contains(u"kafka.sasl.password = ***"_s));
    }

    void environmentNames()
    {
        QCOMPARE(Settings::environmentName(u"redis.port"_s), u"COUPON_REDIS_PORT"_s);
        QCOMPARE(Settings::environmentName(u"kafka.bootstrap.servers"_s), u"COUPON_KAFKA_BOOTSTRAP_SERVERS"_s);
        // Every known key round-trips through its environment name.
        const QStringList keys = Settings::knownKeys();
        for (const QString &key : keys) {
            SettingsSources sources;
            sources.environment.insert(Settings::environmentName(key), u"bad-\u00e9"_s);
            const auto s = Settings::load(sources);
            if (!s.ok())
                QVERIFY2(s.error().message.startsWith(key + u" = "_s), qPrintable(s.error().message));
        }
    }
};

QTEST_GUILESS_MAIN(TestSettings)
#include "tst_settings.moc"
