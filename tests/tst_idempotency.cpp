// The gateway's idempotency records without Redis or a server: the key names,
// the record bytes stored per key, and the answer a replayed request gets.
// The records against a real Redis are covered by tst_gateway.

#include "gateway/idempotency.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::StringLiterals;
using coupon::gateway::IdempotencyRecord;

class TestIdempotency : public QObject
{
    Q_OBJECT

private slots:
    void redisKeyIsHashTaggedWithTheCampaign()
    {
        // The campaign's other keys are coupon:{<campaign>}:...; a cluster
        // keeps the record in their slot.
        // One user's key is not another's: the user is part of the name.
        const auto keys = coupon::gateway::idempotencyKeys(u"spring-sale"_s, 42, "order-7f3a");
        QCOMPARE(keys.record, QByteArray("coupon:{spring-sale}:idem:42:order-7f3a"));
        QCOMPARE(keys.index, QByteArray("coupon:{spring-sale}:idemq:42"));
        QCOMPARE(keys.key, QByteArray("order-7f3a"));
    }

    void onlyAnswersThatChangedStateAreKept()
    {
        using coupon::gateway::idempotencyKeepMs;
        coupon::http::Response accepted;
        accepted.status = 202;
        QCOMPARE(idempotencyKeepMs(accepted, 600000), 600000);
        const auto unknown = coupon::http::Response::error(503, u"outcome_unknown"_s, u"may have"_s);
        QCOMPARE(idempotencyKeepMs(unknown, 600000), 60000);
        QCOMPARE(idempotencyKeepMs(unknown, 5000), 5000);
        for (const int status : {400, 409, 410, 403, 404, 429})
            QCOMPARE(idempotencyKeepMs(coupon::http::Response::error(status, u"x"_s, u"y"_s), 600000), 0);
        QCOMPARE(idempotencyKeepMs(coupon::http::Response::error(503, u"unavailable"_s, u"y"_s), 600000), 0);
    }

    void validKeys_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<bool>("valid");
        QTest::newRow("empty") << QByteArray() << false;
        QTest::newRow("one char") << QByteArray("x") << true;
        QTest::newRow("128 chars") << QByteArray(128, 'k') << true;
        QTest::newRow("129 chars") << QByteArray(129, 'k') << false;
        QTest::newRow("punctuation") << QByteArray("a|b:{c}~!") << true;
        QTest::newRow("space") << QByteArray("a b") << false;
        QTest::newRow("tab") << QByteArray("a\tb") << false;
        QTest::newRow("DEL") << QByteArray("a\x7f") << false;
        QTest::newRow("non-ASCII") << QByteArray("caf\xc3\xa9") << false;
    }

    void validKeys()
    {
        QFETCH(QByteArray, key);
        QFETCH(bool, valid);
        QCOMPARE(coupon::gateway::isValidIdempotencyKey(key), valid);
    }

    void pendingRecordBytes()
    {
        // Each claim has an id of its own: a late finish knows a later claim
        // is not its own.
        const IdempotencyRecord pending = IdempotencyRecord::pending(42);
        QVERIFY(!pending.claim.isEmpty());
        QVERIFY(pending.claim != IdempotencyRecord::pending(42).claim);
        QCOMPARE(pending.encode(), "P|42|" + pending.claim);
        const std::optional<IdempotencyRecord> decoded = IdempotencyRecord::decode(pending.encode());
        QVERIFY(decoded);
        QCOMPARE(decoded->state, IdempotencyRecord::State::Pending);
        QCOMPARE(decoded->user, QByteArray("42"));
        QCOMPARE(decoded->claim, pending.claim);
    }

    void doneRecordBytesKeepABodyWithSeparators()
    {
        coupon::http::Response answer;
        answer.status = 202;
        answer.body = R"({"campaign":"a|b","ticket":7})";
        const IdempotencyRecord done = IdempotencyRecord::done(9223372036854775807, answer);
        QCOMPARE(done.encode(), QByteArray(R"(D|9223372036854775807|202|{"campaign":"a|b","ticket":7})"));
        const std::optional<IdempotencyRecord> decoded = IdempotencyRecord::decode(done.encode());
        QVERIFY(decoded);
        QCOMPARE(decoded->state, IdempotencyRecord::State::Done);
        QCOMPARE(decoded->user, QByteArray("9223372036854775807"));
        QCOMPARE(decoded->status, 202);
        QCOMPARE(decoded->body, answer.body);

        answer.body.clear();
        const std::optional<IdempotencyRecord> empty = IdempotencyRecord::decode(
            IdempotencyRecord::done(1, answer).encode());
        QVERIFY(empty);
        QCOMPARE(empty->status, 202);
        QVERIFY(empty->body.isEmpty());
    }

    void bytesThatAreNoRecord_data()
    {
        QTest::addColumn<QByteArray>("stored");
        QTest::newRow("empty (expired)") << QByteArray();
        QTest::newRow("no separator") << QByteArray("P42");
        QTest::newRow("unknown state") << QByteArray("X|42|200|{}");
        QTest::newRow("done without status") << QByteArray("D|42");
        QTest::newRow("done without body") << QByteArray("D|42|200");
        QTest::newRow("done, status not a number") << QByteArray("D|42|ok|{}");
    }

    void bytesThatAreNoRecord()
    {
        QFETCH(QByteArray, stored);
        QVERIFY(!IdempotencyRecord::decode(stored));
    }

    void anotherUsersKeyIs422()
    {
        const coupon::http::Response r = coupon::gateway::answerFromRecord(IdempotencyRecord::pending(5), 6);
        QCOMPARE(r.status, 422);
        QCOMPARE(QJsonDocument::fromJson(r.body).object()[u"code"_s].toString(), u"idempotency_key_reused"_s);
        // Also once the first request has its answer.
        coupon::http::Response first;
        first.status = 202;
        first.body = "{}";
        QCOMPARE(coupon::gateway::answerFromRecord(IdempotencyRecord::done(5, first), 6).status, 422);
    }

    void aRunningRequestIs409WithRetryAfter()
    {
        const coupon::http::Response r = coupon::gateway::answerFromRecord(IdempotencyRecord::pending(5), 5);
        QCOMPARE(r.status, 409);
        QCOMPARE(QJsonDocument::fromJson(r.body).object()[u"code"_s].toString(), u"request_in_progress"_s);
        QVERIFY(r.headers.contains(std::pair<QByteArray, QByteArray>("Retry-After", "1")));
    }

    void aFinishedRequestIsReplayed()
    {
        coupon::http::Response first;
        first.status = 410;
        first.body = R"({"code":"sold_out","message":"all coupons of this campaign are taken"})";
        const std::optional<IdempotencyRecord> stored = IdempotencyRecord::decode(
            IdempotencyRecord::done(5, first).encode());
        QVERIFY(stored);
        const coupon::http::Response r = coupon::gateway::answerFromRecord(*stored, 5);
        QCOMPARE(r.status, 410);
        QCOMPARE(r.body, first.body);
        QCOMPARE(r.contentType, QByteArray("application/json"));
        QCOMPARE(r.headers, (QList<std::pair<QByteArray, QByteArray>>{{"Idempotency-Replayed", "true"}}));
    }
};

QTEST_GUILESS_MAIN(TestIdempotency)
#include "tst_idempotency.moc"
