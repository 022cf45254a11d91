#include "testsupport.h"

#include <QProcessEnvironment>
#include <QTest>

#include <cstdlib>

using namespace Qt::StringLiterals;

namespace coupon::test {

Settings integrationSettings()
{
    SettingsSources sources;
    sources.environment = QProcessEnvironment::systemEnvironment();
    sources.iniPath = sources.environment.value(u"COUPON_CONFIG"_s);
    Result<Settings> settings = Settings::load(sources);
    if (!settings) {
        qFatal("integration test settings: %s (run the tests through scripts/test, or set "
               "COUPON_CONFIG to the stack's admin.ini)",
               qPrintable(settings.error().message));
    }
    return std::move(settings).value();
}

} // namespace coupon::test
