// Least privilege in the stack the project's scripts run (issue 11): its
// data, logs and secrets are readable by their owner alone, and MariaDB reads
// no client-side files (local_infile off). Both were open before.

#include "testsupport.h"

#include <QDirIterator>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace coupon;

class TestLeastPrivilege : public QObject
{
    Q_OBJECT

    Settings m_settings = test::integrationSettings();

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
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QMYSQL"_s, u"tst_least_privilege"_s);
        db.setHostName(m_settings.mysql.host);
        db.setPort(m_settings.mysql.port);
        db.setDatabaseName(m_settings.mysql.database);
        db.setUserName(m_settings.mysql.user);
        db.setPassword(m_settings.mysql.password);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QSqlQuery q(db);
        QVERIFY2(q.exec(u"SELECT @@local_infile"_s) && q.next(), qPrintable(q.lastError().text()));
        QCOMPARE(q.value(0).toInt(), 0);
        q.finish();
        db.close();
    }
};

QTEST_GUILESS_MAIN(TestLeastPrivilege)
#include "tst_least_privilege.moc"
