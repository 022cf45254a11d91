#include "coupon/loadgen/run_record.h"

#include "coupon/base/stamp.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

constexpr int kFormat = 1;

QJsonObject outcomesJson(const std::array<qint64, kApplyOutcomeCount> &counts)
{
    QJsonObject json;
    for (int i = 0; i < kApplyOutcomeCount; ++i)
        json.insert(toString(ApplyOutcome(i)), double(counts[size_t(i)]));
    return json;
}

QJsonArray stringsJson(const QStringList &list)
{
    return QJsonArray::fromStringList(list);
}

QStringList stringsFrom(const QJsonValue &value)
{
    QStringList list;
    for (const QJsonValue &v : value.toArray())
        list.append(v.toString());
    return list;
}

QJsonObject sampleJson(const RunSample &s)
{
    QJsonArray answers;
    for (const qint64 n : s.answers)
        answers.append(double(n));
    return QJsonObject{{u"at"_s, double(s.atMs)},
                       {u"answers"_s, answers},
                       {u"p50"_s, s.p50Ms},
                       {u"p95"_s, s.p95Ms},
                       {u"p99"_s, s.p99Ms},
                       {u"redis"_s, double(s.redisCount)},
                       {u"issued"_s, double(s.issued)},
                       {u"lag"_s, double(s.lag)}};
}

Error historyError(const QString &text)
{
    return Error(Errc::RunHistory, text);
}

// The longest latency a record may hold: 10^7 ms is close to 3 hours.
constexpr double kMaxLatencyMs = 1e7;

// Checks what a file says against what a run can have; `*bad` names the
// first field that is not (a chart of an infinite latency never ends).
class FieldCheck
{
public:
    QString bad;

    double latency(const QJsonObject &json, const QString &key, const QString &path)
    {
        const double v = json.value(key).toDouble();
        if (!(std::isfinite(v) && v >= 0 && v <= kMaxLatencyMs))
            fail(path + key);
        return v;
    }
    double finite(const QJsonObject &json, const QString &key, const QString &path, double fallback = 0)
    {
        const double v = json.value(key).toDouble(fallback);
        if (!std::isfinite(v) || std::abs(v) > 1e15)
            fail(path + key);
        return v;
    }
    // A count or time: an integer of at least `min`.
    qint64 integer(const QJsonValue &value, const QString &path, qint64 min, qint64 fallback = 0)
    {
        if (value.isUndefined() || value.isNull())
            return fallback;
        const double d = value.toDouble(std::nan(""));
        if (!(std::isfinite(d) && d >= double(min) && d <= 9e15 && d == std::floor(d)))
            fail(path);
        return qint64(d);
    }

private:
    void fail(const QString &field)
    {
        if (bad.isEmpty())
            bad = field;
    }
};

RunSample sampleFrom(const QJsonObject &json, const QString &path, FieldCheck &check)
{
    RunSample s;
    s.atMs = check.integer(json.value(u"at"_s), path + u"at"_s, 0);
    const QJsonArray answers = json.value(u"answers"_s).toArray();
    for (int i = 0; i < kApplyOutcomeCount && i < answers.size(); ++i)
        s.answers[size_t(i)] = check.integer(answers.at(i), path + u"answers[%1]"_s.arg(i), 0);
    s.p50Ms = check.latency(json, u"p50"_s, path);
    s.p95Ms = check.latency(json, u"p95"_s, path);
    s.p99Ms = check.latency(json, u"p99"_s, path);
    s.redisCount = check.integer(json.value(u"redis"_s), path + u"redis"_s, -1, -1);
    s.issued = check.integer(json.value(u"issued"_s), path + u"issued"_s, -1, -1);
    s.lag = check.integer(json.value(u"lag"_s), path + u"lag"_s, -1, -1);
    return s;
}

} // namespace

qint64 RunSample::answered() const
{
    qint64 sum = 0;
    for (const qint64 n : answers)
        sum += n;
    return sum;
}

void RunRecord::setOptions(const SimulationOptions &options)
{
    campaign = options.campaign;
    users = options.users;
    firstUser = options.firstUser;
    concurrency = options.concurrency;
    duplicatePercent = options.duplicatePercent;
    seed = options.seed;
}

QString RunRecord::makeId(qint64 startedAtMs, const QString &campaign)
{
    return QDateTime::fromMSecsSinceEpoch(startedAtMs, Qt::UTC).toString(u"yyyyMMdd-HHmmss-zzz"_s) + u'-' + campaign;
}

RunRecord RunRecord::begin(const SimulationOptions &options, const QString &tool, const QString &target)
{
    RunRecord r;
    r.setOptions(options);
    r.startedAtMs = QDateTime::currentMSecsSinceEpoch();
    r.id = makeId(r.startedAtMs, r.campaign);
    r.operatorName = operatorAtHost();
    r.tool = tool;
    r.target = target.isEmpty() ? u"in-process"_s : target;
    return r;
}

void RunRecord::addSample(const RunSample &sample)
{
    samples.append(sample);
    if (samples.size() <= kMaxSamples)
        return;
    QList<RunSample> merged;
    merged.reserve(samples.size() / 2 + 1);
    for (qsizetype i = 0; i < samples.size(); i += 2) {
        if (i + 1 == samples.size()) {
            merged.append(samples.at(i));
            break;
        }
        const RunSample &a = samples.at(i);
        RunSample m = samples.at(i + 1);
        for (size_t o = 0; o < m.answers.size(); ++o)
            m.answers[o] += a.answers[o];
        m.p50Ms = std::max(a.p50Ms, m.p50Ms);
        m.p95Ms = std::max(a.p95Ms, m.p95Ms);
        m.p99Ms = std::max(a.p99Ms, m.p99Ms);
        // The later reading is the state at the end of the merged interval.
        if (m.redisCount < 0)
            m.redisCount = a.redisCount;
        if (m.issued < 0)
            m.issued = a.issued;
        if (m.lag < 0)
            m.lag = a.lag;
        merged.append(m);
    }
    samples = std::move(merged);
}

void RunRecord::setAudit(const AuditReport *report, const QString &why)
{
    audited = report != nullptr;
    if (report) {
        auditOk = report->ok;
        auditSummary = report->summary;
        violations = report->violations;
        auditNotes = report->notes;
        auditError.clear();
    } else {
        auditOk = false;
        auditError = why.isEmpty() ? u"no answer"_s : why;
    }
}

RunVerdict runVerdict(const RunRecord &r)
{
    if (!r.error.isEmpty())
        return RunVerdict::DidNotRun;
    if (r.audited)
        return r.auditOk ? RunVerdict::Held : RunVerdict::Violated;
    return r.auditError.isEmpty() ? RunVerdict::NotAudited : RunVerdict::NoVerdict;
}

QString runVerdictText(const RunRecord &r)
{
    switch (runVerdict(r)) {
    case RunVerdict::DidNotRun: return u"did not run: "_s + r.error;
    case RunVerdict::NotAudited: return u"not audited"_s;
    case RunVerdict::NoVerdict: return u"no verdict: "_s + r.auditError;
    case RunVerdict::Held: return u"all five invariants hold"_s;
    case RunVerdict::Violated:
        return u"VIOLATED: "_s + (r.violations.isEmpty() ? r.auditSummary : r.violations.join(u"; "_s));
    }
    return {};
}

void DrainWatch::finish(qint64 atMs, qint64 accepted)
{
    m_finishedAtMs = atMs;
    m_accepted = accepted;
}

qint64 DrainWatch::target() const
{
    if (m_counter >= 0)
        return m_counter;
    return m_counterAtStart >= 0 ? m_counterAtStart + m_accepted : -1;
}

void DrainWatch::counterRead(qint64 atMs, qint64 count)
{
    if (!isFinished() || atMs < m_finishedAtMs || count < 0)
        return;
    // A new target: an issued count asked after this reading must reach it.
    // (The same count read again changes nothing: the stream of readings
    // would otherwise outrun every answer of MySQL.)
    if (count != m_counter) {
        m_caughtUpAtMs = -1;
        m_counter = count;
        m_counterAtMs = atMs;
    }
}

void DrainWatch::issuedRead(qint64 askedAtMs, qint64 issued)
{
    if (!isFinished() || askedAtMs < m_finishedAtMs || issued < 0)
        return;
    // Asked before the target was read: it may predate coupons the target counts.
    if (m_counter >= 0 && askedAtMs < m_counterAtMs)
        return;
    const qint64 t = target();
    if (t < 0 || issued < t)
        m_caughtUpAtMs = -1;
    else if (m_caughtUpAtMs < 0)
        m_caughtUpAtMs = askedAtMs;
}

void DrainWatch::lagRead(qint64 atMs, qint64 lag)
{
    if (!isFinished() || atMs < m_finishedAtMs || lag < 0)
        return;
    m_lagSeen = true;
    if (lag == 0 && !m_lagZero)
        m_lagZeroAtMs = atMs;
    m_lagZero = lag == 0;
}

qint64 DrainWatch::drainedAfterMs(qint64 nowMs)
{
    if (m_drainedAfterMs >= 0 || !isFinished() || m_caughtUpAtMs < 0)
        return m_drainedAfterMs;
    if (m_lagZero)
        m_drainedAfterMs = std::max(m_caughtUpAtMs, m_lagZeroAtMs) - m_finishedAtMs;
    else if (!m_lagSeen && nowMs - m_finishedAtMs >= kLagGraceMs)
        m_drainedAfterMs = m_caughtUpAtMs - m_finishedAtMs;
    return m_drainedAfterMs;
}

QJsonObject toJson(const RunRecord &r)
{
    const SimulationFigures &f = r.figures;
    QJsonArray samples;
    for (const RunSample &s : r.samples)
        samples.append(sampleJson(s));
    QJsonValue audit;
    if (r.audited)
        audit = QJsonObject{{u"ok"_s, r.auditOk},
                            {u"summary"_s, r.auditSummary},
                            {u"violations"_s, stringsJson(r.violations)},
                            {u"notes"_s, stringsJson(r.auditNotes)}};
    else if (!r.auditError.isEmpty())
        audit = QJsonObject{{u"error"_s, r.auditError}};
    return QJsonObject{
        {u"format"_s, kFormat},
        {u"id"_s, r.id},
        {u"campaign"_s, r.campaign},
        {u"target"_s, r.target},
        {u"operator"_s, r.operatorName},
        {u"tool"_s, r.tool},
        {u"startedAt"_s, double(r.startedAtMs)},
        {u"finishedAt"_s, double(r.finishedAtMs)},
        {u"settings"_s,
         QJsonObject{{u"users"_s, double(r.users)},
                     {u"firstUser"_s, double(r.firstUser)},
                     {u"concurrency"_s, r.concurrency},
                     {u"duplicatePercent"_s, r.duplicatePercent},
                     {u"seed"_s, double(r.seed)}}},
        {u"figures"_s,
         QJsonObject{{u"attempts"_s, double(f.attempts)},
                     {u"byOutcome"_s, outcomesJson(f.byStatus)},
                     {u"seconds"_s, f.seconds},
                     {u"appliesPerSecond"_s, f.appliesPerSecond},
                     {u"acceptedPerSecond"_s, f.acceptedPerSecond},
                     {u"p50Ms"_s, f.p50Ms},
                     {u"p95Ms"_s, f.p95Ms},
                     {u"p99Ms"_s, f.p99Ms},
                     {u"maxMs"_s, f.maxMs},
                     {u"cancelled"_s, f.cancelled},
                     {u"drainSeconds"_s, r.drainSeconds}}},
        {u"error"_s, r.error},
        {u"samples"_s, samples},
        {u"audit"_s, audit},
    };
}

Result<RunRecord> runRecordFromJson(const QJsonObject &json)
{
    if (json.value(u"format"_s).toInt() != kFormat)
        return historyError(u"not a run record of format %1 (field \"format\")"_s.arg(kFormat));
    RunRecord r;
    r.id = json.value(u"id"_s).toString();
    if (r.id.isEmpty())
        return historyError(u"a run record without an id (field \"id\")"_s);
    r.campaign = json.value(u"campaign"_s).toString();
    r.target = json.value(u"target"_s).toString();
    r.operatorName = json.value(u"operator"_s).toString();
    r.tool = json.value(u"tool"_s).toString();
    FieldCheck check;
    r.startedAtMs = check.integer(json.value(u"startedAt"_s), u"startedAt"_s, 0);
    r.finishedAtMs = check.integer(json.value(u"finishedAt"_s), u"finishedAt"_s, 0);
    const QJsonObject settings = json.value(u"settings"_s).toObject();
    r.users = check.integer(settings.value(u"users"_s), u"settings.users"_s, 0);
    r.firstUser = check.integer(settings.value(u"firstUser"_s), u"settings.firstUser"_s, 0, 1);
    r.concurrency = int(check.integer(settings.value(u"concurrency"_s), u"settings.concurrency"_s, 0));
    r.duplicatePercent = int(check.integer(settings.value(u"duplicatePercent"_s), u"settings.duplicatePercent"_s, 0));
    r.seed = quint32(settings.value(u"seed"_s).toInteger());
    const QJsonObject figures = json.value(u"figures"_s).toObject();
    const QString f = u"figures."_s;
    r.figures.attempts = check.integer(figures.value(u"attempts"_s), f + u"attempts"_s, 0);
    const QJsonObject byOutcome = figures.value(u"byOutcome"_s).toObject();
    for (int i = 0; i < kApplyOutcomeCount; ++i) {
        const QString name = toString(ApplyOutcome(i));
        r.figures.byStatus[size_t(i)] = check.integer(byOutcome.value(name), f + u"byOutcome."_s + name, 0);
    }
    r.figures.seconds = check.finite(figures, u"seconds"_s, f);
    r.figures.appliesPerSecond = check.finite(figures, u"appliesPerSecond"_s, f);
    r.figures.acceptedPerSecond = check.finite(figures, u"acceptedPerSecond"_s, f);
    r.figures.p50Ms = check.latency(figures, u"p50Ms"_s, f);
    r.figures.p95Ms = check.latency(figures, u"p95Ms"_s, f);
    r.figures.p99Ms = check.latency(figures, u"p99Ms"_s, f);
    r.figures.maxMs = check.latency(figures, u"maxMs"_s, f);
    r.figures.cancelled = figures.value(u"cancelled"_s).toBool();
    r.drainSeconds = check.finite(figures, u"drainSeconds"_s, f, -1);
    r.error = json.value(u"error"_s).toString();
    const QJsonArray samples = json.value(u"samples"_s).toArray();
    for (qsizetype i = 0; i < samples.size(); ++i)
        r.samples.append(sampleFrom(samples.at(i).toObject(), u"samples[%1]."_s.arg(i), check));
    if (!check.bad.isEmpty())
        return historyError(u"run %1: field \"%2\" holds a value no run can have"_s.arg(r.id, check.bad));
    const QJsonValue audit = json.value(u"audit"_s);
    if (audit.isObject()) {
        const QJsonObject a = audit.toObject();
        if (a.contains(u"error"_s)) {
            r.auditError = a.value(u"error"_s).toString();
        } else {
            r.audited = true;
            r.auditOk = a.value(u"ok"_s).toBool();
            r.auditSummary = a.value(u"summary"_s).toString();
            r.violations = stringsFrom(a.value(u"violations"_s));
            r.auditNotes = stringsFrom(a.value(u"notes"_s));
        }
    }
    return r;
}

RunSample RunSampler::sample(qint64 elapsedMs)
{
    RunSample s;
    s.atMs = elapsedMs;
    for (int i = 0; i < kApplyOutcomeCount; ++i) {
        const qint64 now = m_progress->byStatus[size_t(i)].load(std::memory_order_relaxed);
        s.answers[size_t(i)] = now - m_lastStatus[size_t(i)];
        m_lastStatus[size_t(i)] = now;
    }
    const SimulationProgress::LatencyCounts now = m_progress->latencySnapshot();
    SimulationProgress::LatencyCounts interval{};
    for (size_t i = 0; i < now.size(); ++i)
        interval[i] = now[i] - m_lastLatency[i];
    m_lastLatency = now;
    s.p50Ms = SimulationProgress::percentileMs(interval, 0.50);
    s.p95Ms = SimulationProgress::percentileMs(interval, 0.95);
    s.p99Ms = SimulationProgress::percentileMs(interval, 0.99);
    return s;
}

QString RunHistory::defaultDir()
{
    const QString env = qEnvironmentVariable("COUPON_RUN_HISTORY_DIR");
    if (!env.isEmpty())
        return env;
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + u"/coupon-system/runs"_s;
}

RunHistory::RunHistory(QString dir, int keep)
    : m_dir(std::move(dir))
    , m_keep(std::max(1, keep))
{ }

Status RunHistory::save(const RunRecord &record)
{
    if (record.id.isEmpty() || record.id.contains(u'/') || record.id.startsWith(u'.'))
        return historyError(u"a run record needs an id that is a file name, not \"%1\""_s.arg(record.id));
    if (!QDir().mkpath(m_dir))
        return historyError(u"cannot create the run history folder %1"_s.arg(m_dir));
    QSaveFile file(QDir(m_dir).filePath(record.id + u".json"_s));
    if (!file.open(QIODevice::WriteOnly))
        return historyError(u"cannot write %1: %2"_s.arg(file.fileName(), file.errorString()));
    file.write(QJsonDocument(toJson(record)).toJson(QJsonDocument::Compact));
    if (!file.commit())
        return historyError(u"cannot write %1: %2"_s.arg(file.fileName(), file.errorString()));
    // Ids sort by start time: drop the oldest beyond `keep`.
    QStringList names = QDir(m_dir).entryList({u"*.json"_s}, QDir::Files, QDir::Name);
    for (qsizetype i = 0; i + m_keep < names.size(); ++i)
        QFile::remove(QDir(m_dir).filePath(names.at(i)));
    return Ok{};
}

QList<RunRecord> RunHistory::list(int limit) const
{
    QList<RunRecord> runs;
    const QStringList names = QDir(m_dir).entryList({u"*.json"_s}, QDir::Files, QDir::Name | QDir::Reversed);
    for (const QString &name : names) {
        if (runs.size() >= limit)
            break;
        Result<RunRecord> run = load(QFileInfo(name).completeBaseName());
        if (run)
            runs.append(std::move(run).value());
    }
    return runs;
}

Result<RunRecord> RunHistory::load(const QString &id) const
{
    if (id.isEmpty() || id.contains(u'/'))
        return historyError(u"no run \"%1\""_s.arg(id));
    QFile file(QDir(m_dir).filePath(id + u".json"_s));
    if (!file.open(QIODevice::ReadOnly))
        return historyError(u"no run \"%1\" in %2"_s.arg(id, m_dir));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!doc.isObject())
        return historyError(u"%1 is not JSON: %2"_s.arg(file.fileName(), parseError.errorString()));
    return runRecordFromJson(doc.object());
}

Status RunHistory::remove(const QString &id)
{
    if (id.isEmpty() || id.contains(u'/'))
        return historyError(u"no run \"%1\""_s.arg(id));
    if (!QFile::remove(QDir(m_dir).filePath(id + u".json"_s)))
        return historyError(u"no run \"%1\" in %2"_s.arg(id, m_dir));
    return Ok{};
}

Result<RunRecord> RunHistory::latest(const QString &campaign) const
{
    const QStringList names = QDir(m_dir).entryList({u"*.json"_s}, QDir::Files, QDir::Name | QDir::Reversed);
    for (const QString &name : names) {
        Result<RunRecord> run = load(QFileInfo(name).completeBaseName());
        if (run && (campaign.isEmpty() || run->campaign == campaign))
            return run;
    }
    return historyError(campaign.isEmpty() ? u"no run in %1"_s.arg(m_dir)
                                           : u"no run of campaign %1 in %2"_s.arg(campaign, m_dir));
}

} // namespace coupon
