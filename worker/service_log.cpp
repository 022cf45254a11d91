#include "service_log.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLoggingCategory>

#include <systemd/sd-journal.h>

#include <sys/stat.h>
#include <syslog.h>

#include <cstdio>
#include <cstdlib>

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

// systemd's own test (systemd.exec(5), $JOURNAL_STREAM): stderr is the
// journal's stream when its device and inode are the ones named there.
bool stderrIsJournal()
{
    const QByteArray stream = qgetenv("JOURNAL_STREAM");
    if (stream.isEmpty())
        return false;
    struct stat st
    { };
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return stream == QByteArray::number(quint64(st.st_dev)) + ':' + QByteArray::number(quint64(st.st_ino));
}

struct Level
{
    const char *name;
    int priority; // syslog's
};

Level levelOf(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return {"debug", LOG_DEBUG};
    case QtInfoMsg: return {"info", LOG_INFO};
    case QtWarningMsg: return {"warning", LOG_WARNING};
    case QtCriticalMsg: return {"error", LOG_ERR};
    case QtFatalMsg: return {"fatal", LOG_CRIT};
    }
    return {"info", LOG_INFO};
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    static const bool journal = stderrIsJournal();
    const Level level = levelOf(type);
    const QByteArray category = context.category ? QByteArray(context.category) : QByteArray("default");
    if (journal) {
        sd_journal_send("MESSAGE=%s", message.toUtf8().constData(), "PRIORITY=%d", level.priority,
                        "SYSLOG_IDENTIFIER=%s", QCoreApplication::applicationName().toUtf8().constData(),
                        "COUPON_CATEGORY=%s", category.constData(), nullptr);
    } else {
        const QByteArray line = formatLogLine(QString::fromLatin1(level.name), QString::fromLatin1(category), message);
        std::fwrite(line.constData(), 1, size_t(line.size()), stderr); // one write per line
    }
    if (type == QtFatalMsg)
        std::abort();
}

// A logfmt value: bare when it is one plain word, else quoted with \" \\ \n \r \t escaped.
void appendValue(QByteArray &out, const QByteArray &value)
{
    bool plain = !value.isEmpty();
    for (char c : value) {
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
            plain = false;
            break;
        }
    }
    if (plain) {
        out += value;
        return;
    }
    out += '"';
    for (char c : value) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: out += c;
        }
    }
    out += '"';
}

} // namespace

QByteArray formatLogLine(const QString &level, const QString &category, const QString &message)
{
    QByteArray line = "ts=" + QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toLatin1();
    line += " level=";
    appendValue(line, level.toUtf8());
    line += " cat=";
    appendValue(line, category.toUtf8());
    line += " msg=";
    appendValue(line, message.toUtf8());
    line += '\n';
    return line;
}

void installServiceLog()
{
    qInstallMessageHandler(handler);
}

void setServiceLogLevel(const QString &level)
{
    // Qt's rules: the last matching line wins.
    QString rules = u"*.debug=false\n"_s;
    if (level == u"debug"_s)
        rules = u"*.debug=true\nqt.*.debug=false\n"_s;
    else if (level == u"warning"_s)
        rules += u"*.info=false\n"_s;
    else if (level == u"error"_s)
        rules += u"*.info=false\n*.warning=false\n"_s;
    QLoggingCategory::setFilterRules(rules);
}

} // namespace coupon
