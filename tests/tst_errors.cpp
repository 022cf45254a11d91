// Error codes: the stable strings couponctl prints and HTTP bodies carry
// must not change with the enum behind them, and each says truly whether
// trying again may help.

#include "coupon/base/error.h"
#include "coupon/kafka/kafka_errors.h"
#include "coupon/mysql/sql_errors.h"

#include <QSqlError>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

class TestErrors : public QObject
{
    Q_OBJECT

private slots:
    void stableCodes_data()
    {
        QTest::addColumn<int>("errc");
        QTest::addColumn<QString>("code");
        QTest::addColumn<bool>("retriable");
        const auto row = [](Errc e, const QString &code, bool retriable) {
            QTest::newRow(qPrintable(code)) << int(e) << code << retriable;
        };
        row(Errc::ConfigInvalid, u"config.invalid"_s, false);
        row(Errc::ConfigUnknown, u"config.unknown"_s, false);
        row(Errc::ConfigFile, u"config.file"_s, false);
        row(Errc::CampaignInvalid, u"campaign.invalid"_s, false);
        row(Errc::CampaignUnknown, u"campaign.unknown"_s, false);
        row(Errc::CampaignExists, u"campaign.exists"_s, false);
        row(Errc::CampaignState, u"campaign.state"_s, false);
        row(Errc::CampaignLimit, u"campaign.limit"_s, false);
        row(Errc::FailedEventUnknown, u"failed_event.unknown"_s, false);
        row(Errc::FailedEventResolved, u"failed_event.resolved"_s, false);
        row(Errc::FailedEventRetry, u"failed_event.retry"_s, false);
        row(Errc::BadUserId, u"bad_user_id"_s, false);
        row(Errc::BadJson, u"bad_json"_s, false);
        row(Errc::HttpTarget, u"http.target"_s, false);
        row(Errc::AuthInvalid, u"invalid_token"_s, false);
        row(Errc::AuthKeys, u"auth.keys"_s, false);
        row(Errc::RedisUnavailable, u"redis.unavailable"_s, true);
        row(Errc::RedisProtocol, u"redis.protocol"_s, false);
        row(Errc::RedisReply, u"redis.reply"_s, false);
        row(Errc::RedisNoScript, u"redis.noscript"_s, true);
        row(Errc::RedisNoReply, u"redis.no_reply"_s, true);
        row(Errc::RedisAuth, u"redis.auth"_s, false);
        row(Errc::MysqlConnection, u"mysql.connection"_s, true);
        row(Errc::MysqlQuery, u"mysql.query"_s, false);
        row(Errc::MysqlSchema, u"mysql.schema"_s, false);
        row(Errc::MysqlDriver, u"mysql.driver"_s, false);
        row(Errc::KafkaCreate, u"kafka.create"_s, false);
        row(Errc::KafkaClosed, u"kafka.closed"_s, false);
        row(Errc::KafkaLag, u"kafka.lag"_s, true);
        row(Errc::GatewayListen, u"gateway.listen"_s, false);
        row(Errc::RunHistory, u"run.history"_s, false);
    }
    void stableCodes()
    {
        QFETCH(int, errc);
        QFETCH(QString, code);
        QFETCH(bool, retriable);
        const Error e(Errc(errc), u"why"_s);
        QCOMPARE(e.code, code);
        QCOMPARE(e.isRetriable(), retriable);
        QVERIFY(e.is(Errc(errc)));
        QCOMPARE(e.toString(), code + u": why"_s);
    }

    void configErrorsAreUsageErrors()
    {
        QVERIFY(isConfigError(Error(Errc::ConfigInvalid, {})));
        QVERIFY(isConfigError(Error(Errc::ConfigFile, {})));
        QVERIFY(!isConfigError(Error(Errc::CampaignInvalid, {})));
    }

    void kafkaCodesCarryLibrdkafkasName()
    {
        const Error down = errors::fromKafka(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, u"produce"_s);
        QCOMPARE(down.code, u"kafka._ALL_BROKERS_DOWN"_s);
        QVERIFY(down.message.startsWith(u"produce: "_s));
        QVERIFY(down.is(Errc::Kafka));
        QVERIFY(down.isRetriable());
        const Error timedOut = errors::fromKafka(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
        QVERIFY(timedOut.isRetriable());
        const Error badConfig = errors::fromKafka(RD_KAFKA_RESP_ERR__INVALID_ARG);
        QCOMPARE(badConfig.code, u"kafka._INVALID_ARG"_s);
        QVERIFY(!badConfig.isRetriable());
        const Error fenced = errors::fromKafka(RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH);
        QVERIFY(!fenced.isRetriable());
    }

    void mysqlConnectionLossIsRetriable()
    {
        const Error gone = errors::fromSql(
            QSqlError(u"gone"_s, u"server has gone away"_s, QSqlError::StatementError, u"2006"_s), u"insert"_s);
        QCOMPARE(gone.code, u"mysql.connection"_s);
        QVERIFY(gone.isRetriable());
        QVERIFY(errors::isConnectionError(gone));
        const Error syntax = errors::fromSql(QSqlError(u"x"_s, u"syntax"_s, QSqlError::StatementError, u"1064"_s),
                                             u"select"_s);
        QCOMPARE(syntax.code, u"mysql.query"_s);
        QVERIFY(!syntax.isRetriable());
    }
};

QTEST_GUILESS_MAIN(TestErrors)
#include "tst_errors.moc"
