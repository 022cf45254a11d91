#include "coupon/mysql/sql_text.h"

using namespace Qt::StringLiterals;

namespace coupon::mysql {

QString sqlString(const QString &text)
{
    QString escaped = text;
    escaped.replace(u'\\', u"\\\\"_s).replace(u'\'', u"''"_s);
    return u'\'' + escaped + u'\'';
}

QString sqlBytes(const QByteArray &bytes)
{
    return u"X'"_s + QString::fromLatin1(bytes.toHex()) + u'\'';
}

QString sqlTime(const QDateTime &time)
{
    if (!time.isValid())
        return u"NULL"_s;
    return u'\'' + time.toUTC().toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s) + u'\'';
}

QDateTime utc(const QVariant &value)
{
    if (value.isNull())
        return {};
    QDateTime time = value.toDateTime();
    time.setTimeSpec(Qt::UTC); // the session runs with time_zone '+00:00'
    return time;
}

} // namespace coupon::mysql
