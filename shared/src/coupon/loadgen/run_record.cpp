#include "coupon/loadgen/run_record.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>

#include <algorithm>

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

std::array<qint64, kApplyOutcomeCount> outcomesFrom(const QJsonObject &json)
{
    std::array<qint64, kApplyOutcomeCount> counts{};
    for (int i = 0; i < kApplyOutcomeCount; ++i)
        counts[size_t(i)] = json.value(toString(ApplyOutcome(i))).toInteger();
    return counts;
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

RunSample sampleFrom(const QJsonObject &json)
{
    RunSample s;
    s.atMs = json.value(u"at"_s).toInteger();
    const QJsonArray answers = json.value(u"answers"_s).toArray();
    for (int i = 0; i < kApplyOutcomeCount && i < answers.size(); ++i)
        s.answers[size_t(i)] = answers.at(i).toInteger();
    s.p50Ms = json.value(u"p50"_s).toDouble();
    s.p95Ms = json.value(u"p95"_s).toDouble();
    s.p99Ms = json.value(u"p99"_s).toDouble();
    s.redisCount = json.value(u"redis"_s).toInteger(-1);
    s.issued = json.value(u"issued"_s).toInteger(-1);
    s.lag = json.value(u"lag"_s).toInteger(-1);
    return s;
}

Error historyError(const QString &text)
{
    return Error(Errc::RunHistory, text);
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

QJsonObject toJson(const RunRecord &r)
{
    const SimulationFigures &f = r.figures;
    QJsonArray samples;
    for (const RunSample &s : r.samples)
        samples.append(sampleJson(s));
    QJsonObject audit;
    if (r.audited)
        audit = QJsonObject{{u"ok"_s, r.auditOk},
                            {u"summary"_s, r.auditSummary},
                            {u"violations"_s, stringsJson(r.violations)},
                            {u"notes"_s, stringsJson(r.auditNotes)}};
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
        {u"audit"_s, r.audited ? QJsonValue(audit) : QJsonValue()},
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
    r.startedAtMs = json.value(u"startedAt"_s).toInteger();
    r.finishedAtMs = json.value(u"finishedAt"_s).toInteger();
    const QJsonObject settings = json.value(u"settings"_s).toObject();
    r.users = settings.value(u"users"_s).toInteger();
    r.firstUser = settings.value(u"firstUser"_s).toInteger(1);
    r.concurrency = settings.value(u"concurrency"_s).toInt();
    r.duplicatePercent = settings.value(u"duplicatePercent"_s).toInt();
    r.seed = quint32(settings.value(u"seed"_s).toInteger());
    const QJsonObject figures = json.value(u"figures"_s).toObject();
    r.figures.attempts = figures.value(u"attempts"_s).toInteger();
    r.figures.byStatus = outcomesFrom(figures.value(u"byOutcome"_s).toObject());
    r.figures.seconds = figures.value(u"seconds"_s).toDouble();
    r.figures.appliesPerSecond = figures.value(u"appliesPerSecond"_s).toDouble();
    r.figures.acceptedPerSecond = figures.value(u"acceptedPerSecond"_s).toDouble();
    r.figures.p50Ms = figures.value(u"p50Ms"_s).toDouble();
    r.figures.p95Ms = figures.value(u"p95Ms"_s).toDouble();
    r.figures.p99Ms = figures.value(u"p99Ms"_s).toDouble();
    r.figures.maxMs = figures.value(u"maxMs"_s).toDouble();
    r.figures.cancelled = figures.value(u"cancelled"_s).toBool();
    r.drainSeconds = figures.value(u"drainSeconds"_s).toDouble(-1);
    r.error = json.value(u"error"_s).toString();
    for (const QJsonValue &s : json.value(u"samples"_s).toArray())
        r.samples.append(sampleFrom(s.toObject()));
    const QJsonValue audit = json.value(u"audit"_s);
    if (audit.isObject()) {
        const QJsonObject a = audit.toObject();
        r.audited = true;
        r.auditOk = a.value(u"ok"_s).toBool();
        r.auditSummary = a.value(u"summary"_s).toString();
        r.violations = stringsFrom(a.value(u"violations"_s));
        r.auditNotes = stringsFrom(a.value(u"notes"_s));
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
