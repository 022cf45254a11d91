#include "coupon/base/stamp.h"

#include <QSysInfo>

#include <pwd.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace coupon {

QString loginName()
{
    for (const char *variable : {"USER", "LOGNAME"}) {
        if (QString name = qEnvironmentVariable(variable); !name.isEmpty())
            return name;
    }
    if (const passwd *pw = ::getpwuid(::geteuid()))
        return QString::fromLocal8Bit(pw->pw_name);
    return {};
}

QString operatorAtHost()
{
    return loginName() + u'@' + QSysInfo::machineHostName();
}

QString timeText(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : u"-"_s;
}

} // namespace coupon
