// couponctl: campaign operations, applies, simulations and audits from a shell.
// Exit codes: 0 ok, 1 a check failed, 2 usage or configuration error.

#include "coupon/base/cli.h"
#include "coupon/base/stamp.h"
#include "coupon/base/validation.h"
#include "coupon/loadgen/http_client.h"
#include "coupon/loadgen/run_record.h"
#include "coupon/loadgen/simulation.h"
#include "coupon/loadgen/tokens.h"
#include "coupon/protocol/keys.h"
#include "coupon/protocol/soldout_memo.h"
#include "coupon/report/report_html.h"
#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"
#include "coupon/service/failed_events.h"
#include "coupon/version.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QTextStream>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

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
    const bool usage = isConfigError(error) || error.is(Errc::CampaignInvalid) || error.is(Errc::CampaignUnknown)
        || error.is(Errc::CampaignExists) || error.is(Errc::CampaignState) || error.is(Errc::BadUserId)
        || error.is(Errc::FailedEventUnknown) || error.is(Errc::FailedEventRetry);
    return fail(usage ? ExitUsage : ExitCheckFailed, error.message);
}

void printStatus(const CampaignOverview &s)
{
    const Campaign &c = s.campaign;
    out() << "campaign   " << c.id << " (" << c.name << ")\n"
          << "state      " << c.state
          << (!s.redisLoaded        ? u" (not loaded in Redis)"_s
                  : !s.redisCurrent ? u" (reconciling: loaded by another Redis process than the one answering)"_s
                                    : u""_s)
          << '\n'
          << "window     " << timeText(c.startsAt) << " .. " << timeText(c.endsAt) << '\n'
          << "limit      " << c.limit << '\n'
          << "redis      count " << s.redisCount << ", users " << s.redisUsers << ", pending " << s.pending << '\n'
          << "mysql      coupons " << s.coupons << ", issued " << c.issued << ", failed events " << s.failedEvents
          << '\n'
          << "topic lag  " << s.topicLag << '\n';
}

// The options couponctl adds to the common ones, in the order --help lists them.
struct Options
{
    const QCommandLineOption campaign{u"campaign"_s, u"Campaign id."_s, u"id"_s};
    const QCommandLineOption user{u"user"_s, u"User id."_s, u"id"_s};
    const QCommandLineOption users{u"users"_s, u"Distinct users to simulate."_s, u"n"_s, u"1000"_s};
    const QCommandLineOption firstUser{u"first-user"_s, u"First simulated user id."_s, u"n"_s, u"1"_s};
    const QCommandLineOption concurrency{u"concurrency"_s, u"Applies in flight."_s, u"n"_s, u"32"_s};
    const QCommandLineOption duplicates{u"duplicates"_s, u"Repeat attempts, % of users."_s, u"pct"_s, u"0"_s};
    const QCommandLineOption target{u"target"_s,
                                    u"simulate: drive gateways (http://HOST:PORT, several separated by "
                                    "commas or spaces: round robin) instead of the in-process apply service."_s,
                                    u"urls"_s};
    const QCommandLineOption audit{u"audit"_s, u"After simulate: wait for the drain and audit."_s};
    const QCommandLineOption noHistory{u"no-history"_s, u"simulate: do not keep the run in the run history."_s};
    const QCommandLineOption limit{u"limit"_s, u"Coupon limit."_s, u"n"_s};
    const QCommandLineOption name{u"name"_s, u"Campaign name."_s, u"text"_s};
    const QCommandLineOption starts{u"starts"_s, u"Window start."_s, u"time"_s};
    const QCommandLineOption ends{u"ends"_s, u"Window end."_s, u"time"_s};
    const QCommandLineOption open{u"open"_s, u"Open the campaign right after creating it."_s};
    const QCommandLineOption timeout{u"timeout"_s, u"Seconds to wait for the drain."_s, u"s"_s, u"120"_s};
    const QCommandLineOption grace{u"grace"_s, u"Seconds a reservation may stay pending."_s, u"s"_s, u"30"_s};
    const QCommandLineOption ttl{u"ttl"_s, u"token: seconds the token is valid."_s, u"s"_s, u"300"_s};
    const QCommandLineOption count{u"count"_s, u"token: one per user from --user on, one per line."_s, u"n"_s, u"1"_s};
    const QCommandLineOption all{u"all"_s, u"failed list: resolved ones too."_s};
    const QCommandLineOption by{u"by"_s, u"failed retry|resolve: who (retry: default the login name)."_s, u"who"_s};
    const QCommandLineOption reason{u"reason"_s, u"failed resolve: why."_s, u"text"_s};
    const QCommandLineOption confirm{u"confirm"_s,
                                     u"failed retry with --campaign/--user: the typed confirmation "
                                     "\"retry ID as C/U\"."_s,
                                     u"text"_s};
    const QCommandLineOption run{u"run"_s, u"report: a run from the run history, or \"latest\" (of --campaign)."_s,
                                 u"id"_s};
    const QCommandLineOption outFile{u"out"_s, u"report: the HTML file to write (default: standard output)."_s,
                                     u"file"_s};

    void addTo(QCommandLineParser &p) const
    {
        for (const QCommandLineOption &o :
             {campaign,  user,  users, firstUser, concurrency, duplicates, target,  audit,
              noHistory, limit, name,  starts,    ends,        open,       timeout, grace,
              ttl,       count, all,   by,        reason,      confirm,    run,     outFile})
            p.addOption(o);
    }
};

// The option checks the commands share. One that fails has printed its
// message already, and the command exits with ExitUsage.
bool parseNumber(const QCommandLineParser &p, const QCommandLineOption &o, qint64 min, qint64 max, qint64 *value)
{
    bool ok = false;
    *value = p.value(o).toLongLong(&ok);
    if (!ok || *value < min || *value > max) {
        fail(ExitUsage,
             u"--%1 = \"%2\": must be an integer in %3..%4"_s.arg(o.names().first(), p.value(o)).arg(min).arg(max));
        return false;
    }
    return true;
}

bool parseTime(const QCommandLineParser &p, const QCommandLineOption &o, QDateTime *value)
{
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
}

// One run of a command: what was parsed, the settings and the CampaignOps
// (connected by main() for the commands whose table entry says so).
struct Invocation
{
    const QCommandLineParser &p;
    const Options &opt;
    const Settings &settings;
    const QStringList args; // args.first() is the command
    const qint64 timeoutS;
    CampaignOps &ops;

    bool campaignArg(QString *id) const
    {
        *id = p.value(opt.campaign);
        if (id->isEmpty()) {
            fail(ExitUsage, u"%1 needs --campaign"_s.arg(args.first()));
            return false;
        }
        if (!isValidCampaignId(*id)) {
            fail(ExitUsage, u"--campaign = \"%1\": must match %2"_s.arg(*id, campaignIdPattern()));
            return false;
        }
        return true;
    }

    int timeoutMs() const { return int(timeoutS * 1000); }
};

int printAudit(const AuditReport &audit)
{
    out() << "audit: " << audit.summary << '\n';
    for (const QString &v : audit.violations)
        out() << "VIOLATION " << v << '\n';
    for (const QString &note : audit.notes)
        out() << "ATTENTION " << note << '\n';
    return audit.ok ? ExitOk : ExitCheckFailed;
}

int migrateCommand(const Invocation &in)
{
    // CampaignOps::connect() has migrated; this reports where the schema is.
    Result<int> version = in.ops.store().schemaVersion();
    if (!version)
        return failWith(version.error());
    out() << "schema at version " << *version << '\n';
    return ExitOk;
}

int campaignCommand(const Invocation &in)
{
    CampaignOps &ops = in.ops;
    const QString verb = in.args.value(1);
    const QString id = in.args.value(2);
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
        c.name = in.p.value(in.opt.name);
        if (!in.p.isSet(in.opt.limit))
            return fail(ExitUsage, u"campaign create needs --limit"_s);
        if (!parseNumber(in.p, in.opt.limit, 0, std::numeric_limits<qint64>::max(), &c.limit)
            || !parseTime(in.p, in.opt.starts, &c.startsAt) || !parseTime(in.p, in.opt.ends, &c.endsAt))
            return ExitUsage;
        st = ops.create(c);
        if (st && in.p.isSet(in.opt.open))
            st = ops.open(id);
    } else if (verb == u"open"_s) {
        st = ops.open(id);
    } else if (verb == u"close"_s) {
        st = ops.close(id);
    } else if (verb == u"reset"_s) {
        st = ops.reset(id, in.timeoutMs());
    } else if (verb == u"rebuild"_s) {
        st = ops.rebuild(id, in.timeoutMs());
    } else if (verb == u"limit"_s) {
        bool ok = false;
        const qint64 limit = in.args.value(3).toLongLong(&ok);
        if (!ok || limit < 0)
            return fail(ExitUsage, u"campaign limit ID N: N must be an integer >= 0"_s);
        st = ops.setLimit(id, limit);
    } else if (verb != u"status"_s) {
        return fail(ExitUsage, u"unknown campaign verb \"%1\" (see --help)"_s.arg(verb));
    }
    if (!st)
        return failWith(st.error());
    Result<CampaignOverview> s = ops.status(id);
    if (!s)
        return failWith(s.error());
    printStatus(*s);
    return ExitOk;
}

int applyCommand(const Invocation &in)
{
    QString campaign;
    if (!in.campaignArg(&campaign))
        return ExitUsage;
    const std::optional<qint64> user = parseUserId(in.p.value(in.opt.user));
    if (!user)
        return fail(ExitUsage,
                    u"--user = \"%1\": must be an integer in 1..9223372036854775807"_s.arg(in.p.value(in.opt.user)));
    Result<std::unique_ptr<ApplyService>> service = ApplyService::create(in.settings, {1});
    if (!service)
        return failWith(service.error());
    const ApplyResult r = (*service)->applyAndWait(campaign, *user);
    out() << toString(r.status);
    if (r.status == ApplyOutcome::Accepted)
        out() << " ticket " << r.ticket << " partition " << r.partition << " offset " << r.offset;
    if (!r.detail.isEmpty())
        out() << " (" << r.detail << ')';
    out() << '\n';
    return r.status == ApplyOutcome::Accepted ? ExitOk : ExitCheckFailed;
}

int tokenCommand(const Invocation &in)
{
    const std::optional<qint64> user = parseUserId(in.p.value(in.opt.user));
    if (!user)
        return fail(ExitUsage,
                    u"--user = \"%1\": must be an integer in 1..9223372036854775807"_s.arg(in.p.value(in.opt.user)));
    qint64 ttl = 0, count = 0;
    if (!parseNumber(in.p, in.opt.ttl, 1, 30 * 86400, &ttl) || !parseNumber(in.p, in.opt.count, 1, 10'000'000, &count)
        || *user > std::numeric_limits<qint64>::max() - count)
        return ExitUsage;
    Result<std::shared_ptr<const TokenMinter>> tokens = TokenMinter::fromSettings(in.settings);
    if (!tokens)
        return failWith(tokens.error());
    if (!*tokens)
        return fail(ExitUsage, u"auth.signing.key is not set: no key to sign with"_s);
    for (qint64 i = 0; i < count; ++i)
        out() << (*tokens)->token(*user + i, int(ttl)) << '\n';
    return ExitOk;
}

// A run's timeline for the run history: the interval samples of `progress`,
// and with `ops` connected (--audit) the campaign's Redis counter, MySQL's
// issued count and the topic lag, read on this thread while the run goes
// on in another.
class RunTimelineSampler
{
public:
    static constexpr auto kInterval = std::chrono::milliseconds(250);

    RunTimelineSampler(RunRecord *record, const SimulationProgress *progress, CampaignOps *ops)
        : m_record(record)
        , m_sampler(progress)
        , m_ops(ops)
    {
        m_clock.start();
    }

    // Runs `simulation` on its own thread, sampling until it returns.
    template <typename Simulation>
    auto run(Simulation simulation) -> decltype(simulation())
    {
        // The counter before the first apply: the drain's target when it
        // cannot be read afterwards (DrainWatch).
        if (m_ops) {
            if (Result<CampaignOverview> status = m_ops->status(m_record->campaign); status && status->redisLoaded)
                m_drain.setCounterAtStart(status->redisCount);
        }
        auto running = std::async(std::launch::async, std::move(simulation));
        while (running.wait_for(kInterval) != std::future_status::ready)
            sample();
        auto result = running.get();
        m_record->finishedAtMs = QDateTime::currentMSecsSinceEpoch();
        m_lastAnswerMs = m_clock.elapsed();
        sample(); // the rest: the samples' answers add up to the run's
        return result;
    }

    // After the run: samples until the drain completes (DrainWatch: MySQL
    // has every ticket the Redis counter handed out, the topic lag is 0),
    // or `timeoutMs`; sets drainSeconds. `accepted`: the run's.
    void sampleDrain(int timeoutMs, qint64 accepted)
    {
        if (!m_ops)
            return;
        m_drain.finish(m_lastAnswerMs, accepted);
        while (m_clock.elapsed() - m_lastAnswerMs < timeoutMs) {
            const qint64 at = m_clock.elapsed();
            const RunSample s = sample();
            m_drain.counterRead(at, s.redisCount);
            m_drain.issuedRead(at, s.issued);
            m_drain.lagRead(at, s.lag);
            if (const qint64 drainedMs = m_drain.drainedAfterMs(m_clock.elapsed()); drainedMs >= 0) {
                m_record->drainSeconds = double(drainedMs) / 1000.0;
                return;
            }
            std::this_thread::sleep_for(kInterval); // a sampling interval, not a wait for a condition
        }
    }

private:
    RunSample sample()
    {
        RunSample s = m_sampler.sample(m_clock.elapsed());
        if (m_ops)
            readFigures(s);
        m_record->addSample(s);
        return s;
    }

    // The three figures of a sample, each a cheap read 4 times a second:
    // not status(), which also counts the campaign's coupons and failed
    // events (a scan of the campaign: 0.3 s at a million coupons).
    void readFigures(RunSample &s)
    {
        const CampaignKeys keys(m_record->campaign);
        if (Result<std::vector<RedisReplyHandle>> r = m_ops->redis().pipeline(
                {{"HEXISTS", keys.meta, "limit"}, {"GET", keys.count}})) {
            if (replyInteger((*r)[0].get()).value_or(0) == 1)
                s.redisCount = replyInteger((*r)[1].get()).value_or(0);
        }
        if (Result<std::optional<Campaign>> c = m_ops->store().campaign(m_record->campaign); c && *c)
            s.issued = (*c)->issued;
        if (Result<QList<PartitionLag>> l = m_ops->lag())
            s.lag = LagProbe::total(*l);
    }

    RunRecord *m_record;
    RunSampler m_sampler;
    CampaignOps *m_ops;
    QElapsedTimer m_clock;
    qint64 m_lastAnswerMs = 0;
    DrainWatch m_drain;
};

// simulate: the run into the run history, unless --no-history.
void keepRun(const Invocation &in, const RunRecord &record)
{
    if (in.p.isSet(in.opt.noHistory))
        return;
    RunHistory history;
    if (Status st = history.save(record); st)
        out() << "run " << record.id << " kept in " << history.dir() << '\n';
    else
        std::fprintf(stderr, "couponctl: the run is not kept: %s\n", qPrintable(st.error().message));
}

int simulateCommand(const Invocation &in)
{
    const Options &opt = in.opt;
    SimulationOptions options;
    qint64 concurrency = 0, duplicates = 0;
    if (!in.campaignArg(&options.campaign) || !parseNumber(in.p, opt.users, 1, 100'000'000, &options.users)
        || !parseNumber(in.p, opt.firstUser, 1, std::numeric_limits<qint64>::max() / 2, &options.firstUser)
        || !parseNumber(in.p, opt.concurrency, 1, 100'000, &concurrency)
        || !parseNumber(in.p, opt.duplicates, 0, 1000, &duplicates))
        return ExitUsage;
    options.concurrency = int(concurrency);
    options.duplicatePercent = int(duplicates);
    const bool auditing = in.p.isSet(opt.audit);
    // The audit needs MySQL: without it, fail before applying anything.
    if (auditing) {
        if (Status st = in.ops.connect(); !st)
            return failWith(st.error());
    }
    RunRecord record = RunRecord::begin(options, u"couponctl"_s, {});
    SimulationProgress progress;
    RunTimelineSampler sampler(&record, &progress, auditing ? &in.ops : nullptr);
    SimulationReport report;
    if (in.p.isSet(opt.target)) {
        Result<QList<QUrl>> targets = parseTargets(in.p.value(opt.target));
        if (!targets)
            return fail(ExitUsage, targets.error().message);
        Result<std::shared_ptr<const TokenMinter>> tokens = TokenMinter::fromSettings(in.settings);
        if (!tokens)
            return failWith(tokens.error());
        options.tokens = *tokens;
        QStringList urls;
        for (const QUrl &url : *targets)
            urls << url.toString();
        record.target = urls.join(u' ');
        Result<SimulationReport> viaHttp = sampler.run([&] { return simulateHttp(*targets, options, &progress); });
        if (!viaHttp)
            return fail(ExitUsage, viaHttp.error().message);
        report = *viaHttp;
    } else {
        Result<std::unique_ptr<ApplyService>> service = ApplyService::create(in.settings);
        if (!service)
            return failWith(service.error());
        record.target = u"in-process"_s;
        report = sampler.run([&] { return simulate(**service, options, &progress); });
        if ((*service)->memo().answers() > 0)
            out() << (*service)->memo().answers() << " answered by the sold-out memo (no Redis round trip)\n";
    }
    record.figures = report;
    out() << report.summary() << '\n';
    out().flush();
    int exitCode = ExitOk;
    if (auditing) {
        sampler.sampleDrain(in.timeoutMs(), report.count(ApplyOutcome::Accepted));
        if (record.drainSeconds >= 0)
            out() << "drained " << QString::number(record.drainSeconds, 'f', 2) << " s after the last answer\n";
        Result<AuditReport> audit = in.ops.audit(options.campaign, in.timeoutMs(), &report.answered);
        record.setAudit(audit ? &*audit : nullptr, audit ? QString() : audit.error().message);
        if (!audit) {
            // No verdict: the run is kept all the same (it is the one to
            // look at), then the audit's error is the answer.
            keepRun(in, record);
            return failWith(audit.error());
        }
        exitCode = printAudit(*audit);
    }
    keepRun(in, record);
    return exitCode;
}

int runsCommand(const Invocation &in)
{
    QString campaign;
    if (in.p.isSet(in.opt.campaign) && !in.campaignArg(&campaign))
        return ExitUsage;
    const RunHistory history;
    out() << u"%1 %2 %3 %4 %5 %6 %7 %8  %9\n"_s.arg(u"ID"_s, -44)
                 .arg(u"TOOL"_s, -14)
                 .arg(u"USERS"_s, 9)
                 .arg(u"APPLIES/S"_s, 10)
                 .arg(u"ACCEPTED"_s, 9)
                 .arg(u"P99"_s, 10)
                 .arg(u"DRAIN"_s, 8)
                 .arg(u"CAMPAIGN"_s, -20)
                 .arg(u"VERDICT"_s);
    int shown = 0;
    for (const RunRecord &r : history.list()) {
        if (!campaign.isEmpty() && r.campaign != campaign)
            continue;
        out() << u"%1 %2 %3 %4 %5 %6 %7 %8  %9\n"_s.arg(r.id, -44)
                     .arg(r.tool, -14)
                     .arg(r.users, 9)
                     .arg(r.figures.appliesPerSecond, 10, 'f', 0)
                     .arg(r.count(ApplyOutcome::Accepted), 9)
                     .arg(latencyText(r.figures.p99Ms), 10)
                     .arg(r.drainSeconds >= 0 ? QString::number(r.drainSeconds, 'f', 2) + u" s"_s : u"-"_s, 8)
                     .arg(r.campaign, -20)
                     .arg(runVerdictText(r));
        ++shown;
    }
    out() << shown << " run(s) in " << history.dir() << '\n';
    return ExitOk;
}

int auditCommand(const Invocation &in)
{
    QString campaign;
    if (!in.campaignArg(&campaign))
        return ExitUsage;
    Result<AuditReport> audit = in.ops.audit(campaign, in.timeoutMs());
    if (!audit)
        return failWith(audit.error());
    const int exitCode = printAudit(*audit);
    if (audit->ok)
        out() << "all five invariants hold\n";
    return exitCode;
}

int settleCommand(const Invocation &in)
{
    QString campaign;
    qint64 grace = 0;
    if (!in.campaignArg(&campaign) || !parseNumber(in.p, in.opt.grace, 0, 86400, &grace))
        return ExitUsage;
    Result<SettleReport> r = in.ops.settle(campaign, grace * 1000);
    if (!r)
        return failWith(r.error());
    out() << "confirmed " << r->confirmed << ", released " << r->released << ", waiting " << r->waiting
          << " (not drained past yet), younger than the grace " << r->young << " (grace " << r->graceMs << " ms)\n";
    return ExitOk;
}

int lagCommand(const Invocation &in)
{
    // Kafka only: CampaignOps::lag needs no connect().
    Result<QList<PartitionLag>> lags = in.ops.lag();
    if (!lags)
        return failWith(lags.error());
    out() << u"%1 %2 %3 %4 %5\n"_s.arg(u"TOPIC"_s, -16)
                 .arg(u"PARTITION"_s, 9)
                 .arg(u"COMMITTED"_s, 12)
                 .arg(u"LOG-END"_s, 12)
                 .arg(u"LAG"_s, 10);
    for (const PartitionLag &l : *lags)
        out() << u"%1 %2 %3 %4 %5\n"_s.arg(in.settings.kafka.topic, -16)
                     .arg(l.partition, 9)
                     .arg(l.committed < 0 ? u"-"_s : QString::number(l.committed), 12)
                     .arg(l.logEnd, 12)
                     .arg(l.lag(), 10);
    out() << "total lag " << LagProbe::total(*lags) << " (group " << in.settings.worker.group << ")\n";
    return ExitOk;
}

void printFailedEvent(const FailedEventRow &r)
{
    out() << "failed event " << r.id << '\n'
          << "position   " << r.topic << " partition " << r.partition << " offset " << r.offset << '\n'
          << "reason     " << r.reason << '\n'
          << "campaign   " << (r.campaign.isEmpty() ? u"- (none readable)"_s : r.campaign) << '\n'
          << "recorded   " << timeText(r.createdAt) << '\n'
          << "key        " << safeBytes(r.key) << '\n'
          << "value      " << safeBytes(r.value) << '\n';
    if (Result<RetryTarget> target = originalTarget(r))
        out() << "retry as   " << target->campaign << '/' << target->userId << " (what the bytes name)\n";
    else
        out() << "retry as   - (" << target.error().message << ")\n";
    if (r.retries > 0)
        out() << "retries    " << r.retries << ", last " << timeText(r.lastRetryAt) << " by " << r.lastRetryBy << ": "
              << r.lastRetryOutcome << '\n';
    out() << "resolved   "
          << (r.resolved() ? u"%1 by %2: %3"_s.arg(timeText(r.resolvedAt), r.resolvedBy, r.resolution) : u"no"_s)
          << '\n';
}

bool failedEventId(const Invocation &in, qint64 *id)
{
    bool ok = false;
    *id = in.args.value(2).toLongLong(&ok);
    if (!ok || *id < 1) {
        fail(ExitUsage,
             u"failed %1 ID: ID must be a failed event's id (an integer >= 1), not \"%2\""_s.arg(in.args.value(1),
                                                                                                 in.args.value(2)));
        return false;
    }
    return true;
}

int failedListCommand(const Invocation &in)
{
    QString campaign;
    if (in.p.isSet(in.opt.campaign) && !in.campaignArg(&campaign))
        return ExitUsage;
    const bool all = in.p.isSet(in.opt.all);
    out() << u"%1 %2 %3 %4 %5 %6  %7\n"_s.arg(u"ID"_s, 8)
                 .arg(u"CAMPAIGN"_s, -20)
                 .arg(u"REASON"_s, -16)
                 .arg(u"PARTITION"_s, 9)
                 .arg(u"OFFSET"_s, 10)
                 .arg(u"RECORDED"_s, -24)
                 .arg(u"STATE"_s);
    qint64 afterId = 0, shown = 0;
    for (;;) {
        Result<QList<FailedEventRow>> page = in.ops.store().failedEvents(afterId, 500, campaign, !all);
        if (!page)
            return failWith(page.error());
        for (const FailedEventRow &r : *page) {
            const QString state = r.resolved() ? u"resolved by "_s + r.resolvedBy
                : r.retries > 0                ? u"unresolved, last retry: "_s + r.lastRetryOutcome
                                               : u"unresolved"_s;
            out() << u"%1 %2 %3 %4 %5 %6  %7\n"_s.arg(r.id, 8)
                         .arg(r.campaign.isEmpty() ? u"-"_s : r.campaign, -20)
                         .arg(r.reason, -16)
                         .arg(r.partition, 9)
                         .arg(r.offset, 10)
                         .arg(timeText(r.createdAt), -24)
                         .arg(state);
            ++shown;
        }
        if (page->size() < 500)
            break;
        afterId = page->constLast().id;
    }
    out() << shown << (all ? " failed event(s)\n" : " unresolved failed event(s)\n");
    return ExitOk;
}

int failedCommand(const Invocation &in)
{
    const QString verb = in.args.value(1);
    if (verb == u"list"_s)
        return failedListCommand(in);
    if (verb != u"show"_s && verb != u"retry"_s && verb != u"resolve"_s)
        return fail(ExitUsage, u"unknown failed verb \"%1\" (see --help)"_s.arg(verb));
    qint64 id = 0;
    if (!failedEventId(in, &id))
        return ExitUsage;

    // Retries apply through the normal protocol: Redis, then the topic.
    std::unique_ptr<ApplyService> service;
    FailedEventOps failed(in.ops.store(), applyThrough(in.settings, service));

    if (verb == u"show"_s) {
        Result<FailedEventRow> row = failed.get(id);
        if (!row)
            return failWith(row.error());
        printFailedEvent(*row);
        return ExitOk;
    }
    QString by = in.p.value(in.opt.by);
    if (verb == u"resolve"_s) {
        if (!in.p.isSet(in.opt.by) || !in.p.isSet(in.opt.reason))
            return fail(ExitUsage, u"failed resolve ID needs --by WHO and --reason TEXT"_s);
        if (Status st = failed.resolve(id, by, in.p.value(in.opt.reason)); !st)
            return failWith(st.error());
        out() << "resolved failed event " << id << '\n';
        return ExitOk;
    }
    if (by.isEmpty())
        by = loginName();
    std::optional<RetryTarget> correction;
    if (in.p.isSet(in.opt.campaign) || in.p.isSet(in.opt.user)) {
        const std::optional<qint64> user = parseUserId(in.p.value(in.opt.user));
        if (!in.p.isSet(in.opt.campaign) || !user)
            return fail(ExitUsage,
                        u"a corrected retry needs both --campaign C and --user U (1..9223372036854775807)"_s);
        correction = RetryTarget{in.p.value(in.opt.campaign), *user, true};
    }
    Result<RetryReport> report = failed.retry(id, by, correction, in.p.value(in.opt.confirm));
    if (!report)
        return failWith(report.error());
    out() << report->outcome << '\n'
          << (report->resolved ? u"failed event %1 resolved"_s.arg(id)
                               : u"failed event %1 stays unresolved (retry again, or resolve it)"_s.arg(id))
          << '\n';
    return report->resolved ? ExitOk : ExitCheckFailed;
}

// The drop report: the audit (after the drain), the failed events and, with
// --run, a run from the history, as one HTML file. No PDF: that takes Qt
// Gui, which this headless tool does not link; the console writes both.
int reportCommand(const Invocation &in)
{
    std::optional<RunRecord> run;
    if (in.p.isSet(in.opt.run)) {
        const RunHistory history;
        const QString id = in.p.value(in.opt.run);
        Result<RunRecord> loaded = id == u"latest"_s ? history.latest(in.p.value(in.opt.campaign)) : history.load(id);
        if (!loaded)
            return fail(ExitUsage, loaded.error().message);
        run = std::move(loaded).value();
    }
    QString campaign;
    if (in.p.isSet(in.opt.campaign) || !run) {
        if (!in.campaignArg(&campaign))
            return ExitUsage;
    } else {
        campaign = run->campaign;
    }
    if (run && run->campaign != campaign)
        return fail(ExitUsage, u"run %1 is of campaign %2, not %3"_s.arg(run->id, run->campaign, campaign));
    Result<DropReport> report = gatherDropReport(in.ops, campaign, in.timeoutMs(), std::move(run),
                                                 ReportStamp::now(loginName(), u"couponctl"_s));
    if (!report)
        return failWith(report.error());
    const QString path = in.p.value(in.opt.outFile);
    if (path.isEmpty() || path == u"-"_s) {
        const QByteArray html = renderReportHtml(*report).toUtf8();
        // A full disk or a closed pipe: a truncated report must not look written.
        if (std::fwrite(html.constData(), 1, size_t(html.size()), stdout) != size_t(html.size())
            || std::fflush(stdout) != 0)
            return fail(
                ExitUsage,
                u"cannot write the report to standard output: %1"_s.arg(QString::fromLocal8Bit(std::strerror(errno))));
    } else {
        if (Status written = writeReportHtml(*report, path); !written)
            return fail(ExitUsage, written.error().message);
        out() << "report on " << campaign << " written to " << path << '\n';
    }
    // Like audit: 1 when an invariant is broken (the report says which).
    if (!report->audit.ok)
        return fail(
            ExitCheckFailed,
            u"%1: %2 invariant violation(s), see the report"_s.arg(campaign).arg(report->audit.violations.size()));
    return ExitOk;
}

// What main() connects before it runs a command.
enum class Connect {
    // CampaignOps::connect(): MySQL (and its migrations), then Redis.
    CampaignOps,
    // Nothing: the command opens only what it uses (apply: Redis and Kafka;
    // lag: Kafka; simulate: Redis and Kafka, or a gateway, and MySQL only
    // for --audit), so it works while MySQL is down.
    Itself,
};

// couponctl's commands, in the order --help lists them.
struct Command
{
    QString name;
    QString usage; // its lines in --help
    int (*run)(const Invocation &);
    Connect connect;
};

const QList<Command> &commands()
{
    static const QList<Command> table{
        {u"migrate"_s, u"  migrate                                 apply the MySQL schema migrations"_s, migrateCommand,
         Connect::CampaignOps},
        {u"campaign"_s,
         u"  campaign list\n"
         "  campaign create ID --limit N [--name S] [--starts T] [--ends T] [--open]\n"
         "  campaign open|close|status|reset|rebuild ID\n"
         "  campaign limit ID N                     (closed campaigns only)"_s,
         campaignCommand, Connect::CampaignOps},
        {u"apply"_s, u"  apply --campaign C --user U"_s, applyCommand, Connect::Itself},
        {u"simulate"_s,
         u"  simulate --campaign C [--users 1000] [--concurrency 32] [--duplicates PCT]\n"
         "           [--first-user N] [--target http://HOST:PORT[,http://HOST:PORT...]] [--audit]\n"
         "           [--no-history]                 the run (and its timeline) goes to the run history"_s,
         simulateCommand, Connect::Itself},
        {u"runs"_s, u"  runs [--campaign C]                     the run history: the console's and simulate's runs"_s,
         runsCommand, Connect::Itself},
        {u"token"_s, u"  token --user U [--count 1] [--ttl 300]   test tokens for U.., signed with auth.signing.key"_s,
         tokenCommand, Connect::Itself},
        {u"audit"_s, u"  audit --campaign C                      check the five invariants after the drain"_s,
         auditCommand, Connect::CampaignOps},
        {u"settle"_s, u"  settle --campaign C [--grace S]         settle old pending reservations"_s, settleCommand,
         Connect::CampaignOps},
        {u"lag"_s, u"  lag                                     the worker group's lag per partition"_s, lagCommand,
         Connect::Itself},
        {u"failed"_s,
         u"  failed list [--campaign C] [--all]       poison messages the worker recorded (unresolved by default)\n"
         "  failed show ID                          its reason, position and bytes (hex and printable)\n"
         "  failed retry ID [--by WHO]              apply what its bytes name, through Redis and the topic\n"
         "  failed retry ID --campaign C --user U --confirm \"retry ID as C/U\"   ...or a correction\n"
         "  failed resolve ID --by WHO --reason TEXT   mark it handled"_s,
         failedCommand, Connect::CampaignOps},
        {u"report"_s,
         u"  report --campaign C [--run ID|latest] [--out FILE.html]\n"
         "                                          the drop report: one self-contained HTML file (stdout\n"
         "                                          without --out); the console writes PDF as well"_s,
         reportCommand, Connect::CampaignOps},
    };
    return table;
}

const Command *findCommand(const QString &name)
{
    for (const Command &c : commands()) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

QString description()
{
    QString text = u"Operate coupon campaigns from a shell.\n\nCommands:\n"_s;
    for (const Command &c : commands())
        text += c.usage + u'\n';
    return text + u"\nTimes are ISO 8601 (UTC unless they carry an offset)."_s;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"couponctl"_s);
    QCoreApplication::setApplicationVersion(QString::fromLatin1(kVersion));

    CommonCommandLine cli(description());
    QCommandLineParser &p = cli.parser();
    const Options opt;
    opt.addTo(p);
    p.addPositionalArgument(u"command"_s, u"What to do (see above)."_s);

    int exitCode = 0;
    const auto settings = cli.process(app, &exitCode);
    if (!settings)
        return exitCode;

    const QStringList args = p.positionalArguments();
    if (args.isEmpty())
        return fail(ExitUsage, u"a command is required (see --help)"_s);
    const Command *command = findCommand(args.first());
    if (!command)
        return fail(ExitUsage, u"unknown command \"%1\" (see --help)"_s.arg(args.first()));

    CampaignOps ops(*settings, u"couponctl"_s);
    const Invocation in{p, opt, *settings, args, 0, ops};
    qint64 timeoutS = 0;
    if (!parseNumber(in.p, opt.timeout, 1, 86400, &timeoutS))
        return ExitUsage;

    if (command->connect == Connect::CampaignOps) {
        if (Status st = ops.connect(); !st)
            return failWith(st.error());
    }
    return command->run(Invocation{p, opt, *settings, args, timeoutS, ops});
}
