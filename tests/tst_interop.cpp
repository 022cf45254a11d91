// Our wire format against Kafka's own Java serializers: the value bytes must be
// exactly what org.apache.kafka.common.serialization.LongSerializer writes, so
// the tutorial's producer can feed our worker and its consumer can read our
// topic (docs/DESIGN.md, "Wire format"). Needs Java 17 and the Kafka jars that
// scripts/setup resolved; no servers. A missing java is a failure, not a skip.

#include "coupon/protocol/codec.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

#include <limits>
#include <optional>
#include <vector>

using namespace Qt::StringLiterals;
using coupon::codec::Decoded;
using coupon::codec::DecodeError;
using coupon::codec::RawHeader;

namespace {

constexpr qint64 kMaxId = std::numeric_limits<qint64>::max();
constexpr qint64 kMinLong = std::numeric_limits<qint64>::min();

// Valid user ids, 1..2^63-1.
const QList<qint64> &userIds()
{
    static const QList<qint64> ids = {
        1,
        2,
        255,
        256,
        65535,
        2147483647,   // 2^31-1
        2147483648LL, // 2^31
        4294967296LL, // 2^32
        1234567890123LL,
        72057594037927936LL, // 2^56
        0x0102030405060708LL,
        kMaxId - 1,
        kMaxId, // 2^63-1
    };
    return ids;
}

// Longs Java serializes that are no user ids.
const QList<qint64> &nonUserIds()
{
    static const QList<qint64> ids = {0, -1, -255, -2147483648LL, kMinLong};
    return ids;
}

QList<qint64> allIds()
{
    return userIds() + nonUserIds();
}

QString describe(const Decoded &d)
{
    if (d.error)
        return u"error %1"_s.arg(coupon::codec::toString(*d.error));
    if (!d.message)
        return u"neither message nor error"_s;
    return u"message user=%1 campaign=%2"_s.arg(d.message->userId).arg(d.message->campaign);
}

} // namespace

class TestInterop : public QObject
{
    Q_OBJECT

private:
    QHash<qint64, QByteArray> m_javaBytes;   // id -> LongSerializer's bytes
    QHash<qint64, QByteArray> m_javaReading; // id -> LongDeserializer's reading of ours

    static QString javaExecutable()
    {
        const QString javaHome = qEnvironmentVariable("JAVA_HOME");
        if (!javaHome.isEmpty()) {
            const QFileInfo candidate(QDir(javaHome).filePath(u"bin/java"_s));
            if (candidate.isExecutable())
                return candidate.absoluteFilePath();
        }
        return QStandardPaths::findExecutable(u"java"_s);
    }

    void addIdRows(const QList<qint64> &ids)
    {
        QTest::addColumn<qint64>("id");
        for (qint64 id : ids)
            QTest::addRow("%lld", static_cast<long long>(id)) << id;
    }

private slots:
    // Runs the Java program once: every id serialized, then our bytes for
    // every id deserialized.
    void initTestCase()
    {
        const QString libs = QString::fromUtf8(COUPON_KAFKA_LIBS);
        const QString source = QString::fromUtf8(COUPON_INTEROP_JAVA);
        const QString java = javaExecutable();
        QVERIFY2(!java.isEmpty(),
                 "java not found (neither $JAVA_HOME/bin/java nor on PATH); this test needs "
                 "Java 17+ (scripts/setup installs it)");
        QVERIFY2(QFileInfo::exists(source), qPrintable(u"missing %1"_s.arg(source)));
        const QStringList clientJars = QDir(libs).entryList({u"kafka-clients-*.jar"_s}, QDir::Files);
        QVERIFY2(!clientJars.isEmpty(), qPrintable(u"no kafka-clients-*.jar in %1 (run scripts/setup)"_s.arg(libs)));

        const QList<qint64> ids = allIds();
        QStringList args{u"-cp"_s, QDir(libs).filePath(u"*"_s), source};
        for (qint64 id : ids)
            args << QString::number(id);
        args << u"--decode"_s;
        for (qint64 id : ids)
            args << QString::fromLatin1(coupon::codec::encodeValue(id).toHex());

        QProcess process;
        process.setProcessChannelMode(QProcess::SeparateChannels);
        process.start(java, args);
        QVERIFY2(process.waitForStarted(30000), qPrintable(u"cannot start %1: %2"_s.arg(java, process.errorString())));
        if (!process.waitForFinished(60000)) {
            process.kill();
            process.waitForFinished(5000);
            QFAIL(qPrintable(u"%1 did not finish within 60 s; stderr:\n%2"_s.arg(
                java, QString::fromLocal8Bit(process.readAllStandardError()))));
        }
        const QString stderrText = QString::fromLocal8Bit(process.readAllStandardError());
        QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
                 qPrintable(u"%1 %2 failed (exit code %3, %4); stderr:\n%5"_s.arg(
                     java, args.join(u' '), QString::number(process.exitCode()),
                     process.exitStatus() == QProcess::NormalExit ? u"normal exit"_s : u"crashed"_s, stderrText)));

        const QByteArray out = process.readAllStandardOutput();
        QList<QByteArray> lines = out.split('\n');
        if (!lines.isEmpty() && lines.constLast().isEmpty())
            lines.removeLast();
        QVERIFY2(lines.size() == 2 * ids.size(),
                 qPrintable(u"expected %1 lines from the Java program, got %2:\n%3\nstderr:\n%4"_s.arg(2 * ids.size())
                                .arg(lines.size())
                                .arg(QString::fromUtf8(out), stderrText)));
        for (qsizetype i = 0; i < ids.size(); ++i) {
            const QByteArray hex = lines.at(i).trimmed();
            const QByteArray bytes = QByteArray::fromHex(hex);
            QVERIFY2(bytes.toHex() == hex,
                     qPrintable(u"line %1 is not lowercase hex: %2"_s.arg(i + 1).arg(QString::fromUtf8(lines.at(i)))));
            m_javaBytes.insert(ids.at(i), bytes);
            m_javaReading.insert(ids.at(i), lines.at(ids.size() + i).trimmed());
        }
    }

    // Our value bytes are LongSerializer's, byte for byte.
    void encodeValueMatchesLongSerializer_data() { addIdRows(allIds()); }

    void encodeValueMatchesLongSerializer()
    {
        QFETCH(qint64, id);

        QVERIFY(m_javaBytes.contains(id));
        const QByteArray java = m_javaBytes.value(id);
        QCOMPARE(java.size(), 8);
        QCOMPARE(coupon::codec::encodeValue(id).toHex(), java.toHex());
    }

    // LongDeserializer (the tutorial's console consumer) reads our bytes
    // back to the id.
    void longDeserializerReadsOurValue_data() { addIdRows(allIds()); }

    void longDeserializerReadsOurValue()
    {
        QFETCH(qint64, id);

        QVERIFY(m_javaReading.contains(id));
        QCOMPARE(m_javaReading.value(id), QByteArray::number(id));
    }

    // A record from the tutorial's producer: LongSerializer value, no key,
    // no headers. It belongs to the default campaign we pass in.
    void javaValueDecodes_data() { addIdRows(userIds()); }

    void javaValueDecodes()
    {
        QFETCH(qint64, id);

        QVERIFY(m_javaBytes.contains(id));
        const QByteArray value = m_javaBytes.value(id);
        const std::vector<RawHeader> noHeaders;
        for (const QString &defaultCampaign : {u"default"_s, u"tutorial-drop_1"_s}) {
            const Decoded d = coupon::codec::decode(std::nullopt, QByteArrayView(value), noHeaders, defaultCampaign);
            QVERIFY2(d.message && !d.error, qPrintable(describe(d)));
            QCOMPARE(d.message->userId, id);
            QCOMPARE(d.message->campaign, defaultCampaign);
            QCOMPARE(d.message->ticket, qint64(0));
            QCOMPARE(d.message->appliedAtMs, qint64(0));
            QVERIFY(d.message->requestId.isEmpty());
        }

        // With our key next to Java's value it still decodes.
        const QByteArray key = coupon::codec::encodeKey(id);
        const Decoded keyed = coupon::codec::decode(QByteArrayView(key), QByteArrayView(value), noHeaders,
                                                    u"default"_s);
        QVERIFY2(keyed.message && !keyed.error, qPrintable(describe(keyed)));
        QCOMPARE(keyed.message->userId, id);
    }

    // Java serializes 0 and negative longs without complaint; our decoder
    // must still refuse them as user ids.
    void javaNonUserIdRejected_data() { addIdRows(nonUserIds()); }

    void javaNonUserIdRejected()
    {
        QFETCH(qint64, id);

        QVERIFY(m_javaBytes.contains(id));
        const QByteArray value = m_javaBytes.value(id);
        QCOMPARE(value.size(), 8);
        const std::vector<RawHeader> noHeaders;
        const Decoded d = coupon::codec::decode(std::nullopt, QByteArrayView(value), noHeaders, u"default"_s);
        QVERIFY2(d.error && *d.error == DecodeError::UserIdRange && !d.message,
                 qPrintable(u"expected error user_id_range, got "_s + describe(d)));
    }

    void zeroIsSerializableButRejected()
    {
        QVERIFY(m_javaBytes.contains(0));
        QCOMPARE(m_javaBytes.value(0).toHex(), "0000000000000000"_ba);
        const std::vector<RawHeader> noHeaders;
        const Decoded d = coupon::codec::decode(std::nullopt, QByteArrayView(m_javaBytes.value(0)), noHeaders,
                                                u"default"_s);
        QVERIFY(!d.message);
        QVERIFY(d.error.has_value());
        QCOMPARE(coupon::codec::toString(*d.error), u"user_id_range"_s);
    }
};

QTEST_GUILESS_MAIN(TestInterop)
#include "tst_interop.moc"
