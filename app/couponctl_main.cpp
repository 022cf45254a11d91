// couponctl: campaign operations, applies, simulations and audits from a shell.
// Exit codes: 0 ok, 1 a check failed, 2 usage or configuration error.

#include "coupon/base/cli.h"
#include "coupon/base/validation.h"
#include "coupon/loadgen/http_client.h"
#include "coupon/loadgen/simulation.h"
#include "coupon/protocol/soldout_memo.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "coupon/version.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QTextStream>

#include <cstdio>

using namespace Qt::StringLiterals;
using namespace coupon;

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

int fail(int code, const QString &message)
{
    std::fprintf(stderr, "couponctl: %s\n", qPrintable(message));
    return code;
}

int failWith(const Error &error)
{
    // Configuration and usage problems are 2; everything else is a failed operation.
    const bool usage = error.code.startsWith(u"config."_s) || error.code == u"campaign.invalid"_s
        || error.code == u"campaign.unknown"_s || error.code == u"campaign.exists"_s
        || error.code == u"campaign.state"_s;
    return fail(usage ? ExitUsage : ExitCheckFailed, error.message);
}

QString timeText(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : u"-"_s;
}

void printStatus(const CampaignStatus &s)
{
    const Campaign &c = s.campaign;
    out() << "campaign   " << c.id << " (" << c.name << ")\n"
          << "state      " << c.state << (s.redisLoaded ? u""_s : u" (not loaded in Redis)"_s) << '\n'
          << "window     " << timeText(c.startsAt) << " .. " << timeText(c.endsAt) << '\n'
          << "limit      " << c.limit << '\n'
          << "redis      count " << s.redisCount << ", users " << s.redisUsers << ", pending " << s.pending << '\n'
          << "mysql      coupons " << s.coupons << ", issued " << c.issued << ", failed events " << s.failedEvents
          << '\n'
          << "topic lag  " << s.topicLag << '\n';
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"couponctl"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(kVersion));

    CommonCommandLine cli(u"Operate coupon campaigns from a shell.\n\n"
                          "Commands:\n"
                          "  migrate                                 apply the MySQL schema migrations\n"
                          "  campaign list\n"
                          "  campaign create ID --limit N [--name S] [--starts T] [--ends T] [--open]\n"
                          "  campaign open|close|status|reset|rebuild ID\n"
                          "  campaign limit ID N                     (closed campaigns only)\n"
                          "  apply --campaign C --user U\n"
                          "  simulate --campaign C [--users 1000] [--concurrency 32] [--duplicates PCT]\n"
                          "           [--first-user N] [--target http://HOST:PORT] [--audit]\n"
                          "  audit --campaign C                      check the five invariants after the drain\n"
                          "  settle --campaign C [--grace S]         settle old pending reservations\n"
                          "  lag                                     the worker group's lag per partition\n\n"
                          "Times are ISO 8601 (UTC unless they carry an offset)."_s);
    QCommandLineParser &p = cli.parser();
    const QCommandLineOption campaignOpt(u"campaign"_s, u"Campaign id."_s, u"id"_s);
    const QCommandLineOption userOpt(u"user"_s, u"User id."_s, u"id"_s);
    const QCommandLineOption usersOpt(u"users"_s, u"Distinct users to simulate."_s, u"n"_s, u"1000"_s);
    const QCommandLineOption firstUserOpt(u"first-user"_s, u"First simulated user id."_s, u"n"_s, u"1"_s);
    const QCommandLineOption concurrencyOpt(u"concurrency"_s, u"Applies in flight."_s, u"n"_s, u"32"_s);
    const QCommandLineOption duplicatesOpt(u"duplicates"_s, u"Repeat attempts, % of users."_s, u"pct"_s, u"0"_s);
    const QCommandLineOption targetOpt(u"target"_s,
                                       u"simulate: drive a gateway (http://HOST:PORT) instead of "
                                       "the in-process apply service."_s,
                                       u"url"_s);
    const QCommandLineOption auditOpt(u"audit"_s, u"After simulate: wait for the drain and audit."_s);
    const QCommandLineOption limitOpt(u"limit"_s, u"Coupon limit."_s, u"n"_s);
    const QCommandLineOption nameOpt(u"name"_s, u"Campaign name."_s, u"text"_s);
    const QCommandLineOption startsOpt(u"starts"_s, u"Window start."_s, u"time"_s);
    const QCommandLineOption endsOpt(u"ends"_s, u"Window end."_s, u"time"_s);
    const QCommandLineOption openOpt(u"open"_s, u"Open the campaign right after creating it."_s);
    const QCommandLineOption timeoutOpt(u"timeout"_s, u"Seconds to wait for the drain."_s, u"s"_s, u"120"_s);
    const QCommandLineOption graceOpt(u"grace"_s, u"Seconds a reservation may stay pending."_s, u"s"_s, u"30"_s);
    for (const QCommandLineOption &o :
         {campaignOpt, userOpt, usersOpt, firstUserOpt, concurrencyOpt, duplicatesOpt, targetOpt, auditOpt, limitOpt,
          nameOpt, startsOpt, endsOpt, openOpt, timeoutOpt, graceOpt})
        p.addOption(o);
    p.addPositionalArgument(u"command"_s, u"What to do (see above)."_s);

    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;

    const QStringList args = p.positionalArguments();
    if (args.isEmpty())
        return fail(ExitUsage, u"a command is required (see --help)"_s);
    const QString command = args.first();
    static const QStringList kCommands{u"migrate"_s,  u"lag"_s,   u"campaign"_s, u"apply"_s,
                                       u"simulate"_s, u"audit"_s, u"settle"_s};
    if (!kCommands.contains(command))
        return fail(ExitUsage, u"unknown command \"%1\" (see --help)"_s.arg(command));

    auto number = [&](const QCommandLineOption &o, qint64 min, qint64 max, qint64 *value) -> bool {
        bool ok = false;
        *value = p.value(o).toLongLong(&ok);
        if (!ok || *value < min || *value > max) {
            fail(ExitUsage,
                 u"--%1 = \"%2\": must be an integer in %3..%4"_s.arg(o.names().first(), p.value(o)).arg(min).arg(max));
            return false;
        }
        return true;
    };
    auto time = [&](const QCommandLineOption &o, QDateTime *value) -> bool {
        if (!p.isSet(o))
            return true;
        *value = QDateTime::fromString(p.value(o), Qt::ISODateWithMs);
        if (!value->isValid()) {
            fail(ExitUsage, u"--%1 = \"%2\": not an ISO 8601 time"_s.arg(o.names().first(), p.value(o)));
            return false;
        }
        if (value->timeSpec() == Qt::LocalTime)
            value->setTimeSpec(Qt::UTC);
        return true;
    };
    auto campaignArg = [&](QString *id) -> bool {
        *id = p.value(campaignOpt);
        if (id->isEmpty()) {
            fail(ExitUsage, u"%1 needs --campaign"_s.arg(command));
            return false;
        }
        if (!isValidCampaignId(*id)) {
            fail(ExitUsage, u"--campaign = \"%1\": must match [a-z0-9][a-z0-9_-]{0,63}"_s.arg(*id));
            return false;
        }
        return true;
    };
    qint64 timeoutS = 0;
    if (!number(timeoutOpt, 1, 86400, &timeoutS))
        return ExitUsage;

    // Everything below talks to MySQL and Redis.
    CampaignOps ops(*settings, u"couponctl"_s);
    if (Status st = ops.connect(); !st)
        return failWith(st.error());

    if (command == u"migrate"_s) {
        out() << "schema at version " << ops.store().schemaVersion().value() << '\n';
        return ExitOk;
    }

    if (command == u"lag"_s) {
        Result<QList<PartitionLag>> lags = ops.lag();
        if (!lags)
            return failWith(lags.error());
        out() << u"%1 %2 %3 %4 %5\n"_s.arg(u"TOPIC"_s, -16)
                     .arg(u"PARTITION"_s, 9)
                     .arg(u"COMMITTED"_s, 12)
                     .arg(u"LOG-END"_s, 12)
                     .arg(u"LAG"_s, 10);
        for (const PartitionLag &l : *lags)
            out() << u"%1 %2 %3 %4 %5\n"_s.arg(settings->kafka.topic, -16)
                         .arg(l.partition, 9)
                         .arg(l.committed < 0 ? u"-"_s : QString::number(l.committed), 12)
                         .arg(l.logEnd, 12)
                         .arg(l.lag(), 10);
        out() << "total lag " << LagProbe::total(*lags) << " (group " << settings->worker.group << ")\n";
        return ExitOk;
    }

    if (command == u"campaign"_s) {
        const QString verb = args.value(1);
        const QString id = args.value(2);
        if (verb == u"list"_s) {
            Result<QList<Campaign>> list = ops.list();
            if (!list)
                return failWith(list.error());
            out() << u"%1 %2 %3 %4  %5\n"_s.arg(u"ID"_s, -24)
                         .arg(u"STATE"_s, -6)
                         .arg(u"LIMIT"_s, 10)
                         .arg(u"ISSUED"_s, 10)
                         .arg(u"NAME"_s);
            for (const Campaign &c : *list)
                out() << u"%1 %2 %3 %4  %5\n"_s.arg(c.id, -24)
                             .arg(c.state, -6)
                             .arg(c.limit, 10)
                             .arg(c.issued, 10)
                             .arg(c.name);
            return ExitOk;
        }
        if (id.isEmpty())
            return fail(ExitUsage, u"campaign %1 needs an id"_s.arg(verb.isEmpty() ? u"<verb>"_s : verb));
        Status st = Ok{};
        if (verb == u"create"_s) {
            Campaign c;
            c.id = id;
            c.name = p.value(nameOpt);
            if (!p.isSet(limitOpt))
                return fail(ExitUsage, u"campaign create needs --limit"_s);
            if (!number(limitOpt, 0, std::numeric_limits<qint64>::max(), &c.limit) || !time(startsOpt, &c.startsAt)
                || !time(endsOpt, &c.endsAt))
                return ExitUsage;
            st = ops.create(c);
            if (st && p.isSet(openOpt))
                st = ops.open(id);
        } else if (verb == u"open"_s) {
            st = ops.open(id);
        } else if (verb == u"close"_s) {
            st = ops.close(id);
        } else if (verb == u"reset"_s) {
            st = ops.reset(id, int(timeoutS * 1000));
        } else if (verb == u"rebuild"_s) {
            st = ops.rebuild(id, int(timeoutS * 1000));
        } else if (verb == u"limit"_s) {
            bool ok = false;
            const qint64 limit = args.value(3).toLongLong(&ok);
            if (!ok || limit < 0)
                return fail(ExitUsage, u"campaign limit ID N: N must be an integer >= 0"_s);
            st = ops.setLimit(id, limit);
        } else if (verb != u"status"_s) {
            return fail(ExitUsage, u"unknown campaign verb \"%1\" (see --help)"_s.arg(verb));
        }
        if (!st)
            return failWith(st.error());
        Result<CampaignStatus> s = ops.status(id);
        if (!s)
            return failWith(s.error());
        printStatus(*s);
        return ExitOk;
    }

    if (command == u"apply"_s) {
        QString campaign;
        if (!campaignArg(&campaign))
            return ExitUsage;
        const std::optional<qint64> user = parseUserId(p.value(userOpt));
        if (!user)
            return fail(ExitUsage,
                        u"--user = \"%1\": must be an integer in 1..9223372036854775807"_s.arg(p.value(userOpt)));
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(*settings, {1});
        if (!service)
            return failWith(service.error());
        const ApplyResult r = (*service)->applyAndWait(campaign, *user);
        out() << toString(r.status);
        if (r.status == ApplyStatus::Accepted)
            out() << " ticket " << r.ticket << " partition " << r.partition << " offset " << r.offset;
        if (!r.detail.isEmpty())
            out() << " (" << r.detail << ')';
        out() << '\n';
        return r.status == ApplyStatus::Accepted ? ExitOk : ExitCheckFailed;
    }

    if (command == u"simulate"_s) {
        SimulationOptions options;
        qint64 concurrency = 0, duplicates = 0;
        if (!campaignArg(&options.campaign) || !number(usersOpt, 1, 100'000'000, &options.users)
            || !number(firstUserOpt, 1, std::numeric_limits<qint64>::max() / 2, &options.firstUser)
            || !number(concurrencyOpt, 1, 100'000, &concurrency) || !number(duplicatesOpt, 0, 1000, &duplicates))
            return ExitUsage;
        options.concurrency = int(concurrency);
        options.duplicatePercent = int(duplicates);
        SimulationReport report;
        if (p.isSet(targetOpt)) {
            Result<SimulationReport> viaHttp = simulateHttp(QUrl(p.value(targetOpt)), options);
            if (!viaHttp)
                return fail(ExitUsage, viaHttp.error().message);
            report = *viaHttp;
        } else {
            Result<std::unique_ptr<ApplyService>> service = ApplyService::create(*settings);
            if (!service)
                return failWith(service.error());
            report = simulate(**service, options);
            if ((*service)->memo().answers() > 0)
                out() << (*service)->memo().answers() << " answered by the sold-out memo (no Redis round trip)\n";
        }
        out() << report.summary() << '\n';
        out().flush();
        if (!p.isSet(auditOpt))
            return ExitOk;
        Result<AuditReport> audit = ops.audit(options.campaign, int(timeoutS * 1000), &report.answered);
        if (!audit)
            return failWith(audit.error());
        out() << "audit: " << audit->summary << '\n';
        for (const QString &v : audit->violations)
            out() << "VIOLATION " << v << '\n';
        return audit->ok ? ExitOk : ExitCheckFailed;
    }

    if (command == u"audit"_s) {
        QString campaign;
        if (!campaignArg(&campaign))
            return ExitUsage;
        Result<AuditReport> audit = ops.audit(campaign, int(timeoutS * 1000));
        if (!audit)
            return failWith(audit.error());
        out() << "audit: " << audit->summary << '\n';
        for (const QString &v : audit->violations)
            out() << "VIOLATION " << v << '\n';
        if (audit->ok)
            out() << "all five invariants hold\n";
        return audit->ok ? ExitOk : ExitCheckFailed;
    }

    if (command == u"settle"_s) {
        QString campaign;
        qint64 grace = 0;
        if (!campaignArg(&campaign) || !number(graceOpt, 0, 86400, &grace))
            return ExitUsage;
        Result<SettleReport> r = ops.settle(campaign, grace * 1000);
        if (!r)
            return failWith(r.error());
        out() << "confirmed " << r->confirmed << ", released " << r->released << ", waiting " << r->waiting << '\n';
        return ExitOk;
    }

    Q_UNREACHABLE();
    return ExitUsage;
}
