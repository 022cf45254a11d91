#include "gateway/answers.h"

#include "coupon/base/validation.h"

#include <QElapsedTimer>
#include <QHash>
#include <QLoggingCategory>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAnswers, "coupon.gateway")

namespace coupon::gateway {

namespace {

FixedAnswers makeFixedAnswers()
{
    FixedAnswers a;
    a.alive = http::Response::json(200, {{u"status"_s, u"alive"_s}});
    a.notFound = http::Response::error(404, u"not_found"_s, u"no such endpoint"_s);
    a.badCampaignId = http::Response::error(400, u"bad_campaign_id"_s,
                                            u"a campaign id matches "_s + campaignIdPattern());
    a.unsupportedMediaType = http::Response::error(415, u"unsupported_media_type"_s,
                                                   u"send Content-Type: application/json"_s);
    a.duplicate = http::Response::error(409, u"duplicate"_s, u"this user already holds or reserved a coupon"_s);
    a.soldOut = http::Response::error(410, u"sold_out"_s, u"all coupons of this campaign are taken"_s);
    a.closed = http::Response::error(403, u"closed"_s, u"the campaign is closed or outside its window"_s);
    return a;
}

} // namespace

const FixedAnswers &fixedAnswers()
{
    static const FixedAnswers answers = makeFixedAnswers();
    return answers;
}

http::Response methodNotAllowed(QByteArrayView allow)
{
    http::Response r = http::Response::error(405, u"method_not_allowed"_s,
                                             u"allowed: %1"_s.arg(QLatin1StringView(allow.data(), allow.size())));
    r.headers.append(std::pair<QByteArray, QByteArray>("Allow", allow.toByteArray()));
    return r;
}

http::Response dependencyDown(const QString &code, const QString &detail)
{
    static QHash<QString, QElapsedTimer> lastLogged; // the event loop's thread only
    QElapsedTimer &last = lastLogged[code];
    if (!last.isValid() || last.elapsed() >= 1000) {
        qCWarning(lcAnswers, "answering 503 %s: %s", qPrintable(code), qPrintable(detail));
        last.start();
    }
    QString message;
    if (code == u"redis_unavailable"_s)
        message = u"the reservation store cannot be reached; nothing was reserved; try again"_s;
    else if (code == u"kafka_unavailable"_s)
        message = u"the event log cannot take applies right now; nothing was reserved; try again"_s;
    else
        message = u"the apply could not be taken; nothing was reserved; try again"_s;
    return unavailable(code, message);
}

http::Response unavailable(const QString &code, const QString &message)
{
    http::Response r = http::Response::error(503, code, message);
    r.headers.append(std::pair<QByteArray, QByteArray>("Retry-After", "1"));
    return r;
}

} // namespace coupon::gateway
