#include "coupon/loadgen/simulation.h"

#include "coupon/base/threads.h"

#include <QElapsedTimer>
#include <QRandomGenerator>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

double percentile(std::vector<qint64> &sortedNs, double p)
{
    if (sortedNs.empty())
        return 0;
    const size_t index = std::min(sortedNs.size() - 1, size_t(std::llround(p * double(sortedNs.size() - 1))));
    return double(sortedNs[index]) / 1e6;
}

} // namespace

void SimulationProgress::recordLatency(qint64 ns)
{
    const double us = double(ns) / 1000.0;
    const int index = us < 1 ? 0 : std::clamp(int(std::floor(4 * std::log2(us))) + 1, 0, kLatencyBuckets - 1);
    latencyBuckets[size_t(index)].fetch_add(1, std::memory_order_relaxed);
}

double SimulationProgress::latencyPercentileMs(double p) const
{
    return percentileMs(latencySnapshot(), p);
}

SimulationProgress::LatencyCounts SimulationProgress::latencySnapshot() const
{
    LatencyCounts counts{};
    for (int i = 0; i < kLatencyBuckets; ++i)
        counts[size_t(i)] = latencyBuckets[size_t(i)].load(std::memory_order_relaxed);
    return counts;
}

double SimulationProgress::percentileMs(const LatencyCounts &counts, double p)
{
    qint64 answers = 0;
    for (const qint64 n : counts)
        answers += n;
    if (answers == 0)
        return 0;
    const qint64 rank = std::max<qint64>(1, qint64(std::ceil(p * double(answers))));
    qint64 seen = 0;
    for (int i = 0; i < kLatencyBuckets; ++i) {
        seen += counts[size_t(i)];
        if (seen >= rank)
            return std::exp2(double(i) / 4) / 1000.0; // the bucket's upper bound
    }
    return std::exp2(double(kLatencyBuckets - 1) / 4) / 1000.0;
}

QString latencyText(double ms)
{
    if (!(ms > 0))
        return u"0 µs"_s;
    // Three significant digits in the largest unit that keeps the number
    // below 1000 once rounded: 0.40 µs, 12.3 µs, 250 µs, 1.00 ms, 1.23 s.
    struct Unit
    {
        double perMs;
        QStringView name;
    };
    static constexpr std::array<Unit, 3> kUnits{{{1000.0, u"µs"}, {1.0, u"ms"}, {0.001, u"s"}}};
    for (size_t i = 0; i < kUnits.size(); ++i) {
        const double value = ms * kUnits[i].perMs;
        if (value < 999.5 || i + 1 == kUnits.size()) {
            const int decimals = value < 9.995 ? 2 : value < 99.95 ? 1 : 0;
            return QString::number(value, 'f', decimals).append(u' ').append(kUnits[i].name);
        }
    }
    return {};
}

QString SimulationReport::summary() const
{
    QStringList counts;
    for (int s = 0; s < kApplyOutcomeCount; ++s) {
        if (byStatus[size_t(s)] > 0)
            counts << u"%1 %2"_s.arg(byStatus[size_t(s)]).arg(toString(ApplyOutcome(s)));
    }
    return u"%1 applies in %2 s: %3 · %4 applies/s, %5 accepted/s · latency p50 %6, p95 %7, p99 %8%9"_s.arg(attempts)
        .arg(seconds, 0, 'f', 2)
        .arg(counts.join(u", "_s))
        .arg(appliesPerSecond, 0, 'f', 0)
        .arg(acceptedPerSecond, 0, 'f', 0)
        .arg(latencyText(p50Ms), latencyText(p95Ms), latencyText(p99Ms), cancelled ? u" (cancelled)"_s : QString());
}

std::vector<qint64> simulationAttempts(const SimulationOptions &options)
{
    QRandomGenerator random = options.seed ? QRandomGenerator(options.seed) : QRandomGenerator::securelySeeded();
    std::vector<qint64> attempts;
    const qint64 repeats = options.users * options.duplicatePercent / 100;
    attempts.reserve(size_t(options.users + repeats));
    for (qint64 i = 0; i < options.users; ++i)
        attempts.push_back(options.firstUser + i);
    for (qint64 i = 0; i < repeats && options.users > 0; ++i)
        attempts.push_back(options.firstUser + qint64(random.bounded(quint64(options.users))));
    std::shuffle(attempts.begin(), attempts.end(), random);
    return attempts;
}

SimulationReport summarizeSimulation(const std::vector<qint64> &attempts, const std::vector<char> &sent,
                                     const std::vector<ApplyOutcome> &outcomes, const std::vector<qint64> &latencyNs,
                                     double seconds, bool unavailableMayHideAccept)
{
    SimulationReport report;
    report.seconds = seconds;
    std::vector<qint64> sorted;
    QSet<qint64> acceptedUsers, unknownUsers;
    for (size_t i = 0; i < attempts.size(); ++i) {
        if (!sent[i])
            continue;
        ++report.attempts;
        ++report.byStatus[size_t(outcomes[i])];
        sorted.push_back(latencyNs[i]);
        if (outcomes[i] == ApplyOutcome::Accepted)
            acceptedUsers.insert(attempts[i]);
        else if (outcomes[i] == ApplyOutcome::Uncertain
                 || (unavailableMayHideAccept && outcomes[i] == ApplyOutcome::Unavailable))
            unknownUsers.insert(attempts[i]);
    }
    report.cancelled = report.attempts < qint64(attempts.size());
    // A user is rejected when no attempt of theirs was accepted or left
    // unknown (a "duplicate" answer to a user who holds one is no rejection).
    for (size_t i = 0; i < attempts.size(); ++i) {
        if (sent[i] && !acceptedUsers.contains(attempts[i]) && !unknownUsers.contains(attempts[i]))
            report.answered.rejected.insert(attempts[i]);
    }
    report.answered.accepted = acceptedUsers;
    std::sort(sorted.begin(), sorted.end());
    report.p50Ms = percentile(sorted, 0.50);
    report.p95Ms = percentile(sorted, 0.95);
    report.p99Ms = percentile(sorted, 0.99);
    report.maxMs = sorted.empty() ? 0 : double(sorted.back()) / 1e6;
    report.appliesPerSecond = seconds > 0 ? double(report.attempts) / seconds : 0;
    report.acceptedPerSecond = seconds > 0 ? double(report.count(ApplyOutcome::Accepted)) / seconds : 0;
    return report;
}

SimulationReport simulate(ApplyService &service, const SimulationOptions &options, SimulationProgress *progress,
                          const std::atomic<bool> *cancel)
{
    const std::vector<qint64> attempts = simulationAttempts(options);

    SimulationProgress localProgress;
    SimulationProgress &live = progress ? *progress : localProgress;
    live.total.store(qint64(attempts.size()));

    std::vector<qint64> latencyNs(attempts.size(), 0);
    std::vector<ApplyOutcome> outcomes(attempts.size(), ApplyOutcome::Unavailable);
    const int concurrency = std::max(1, options.concurrency);
    std::counting_semaphore<> inFlight(concurrency);
    std::atomic<size_t> next{0};
    std::atomic<qint64> answered{0};
    std::mutex doneMutex;
    std::condition_variable doneCondition;

    QElapsedTimer clock;
    clock.start();
    // A few submitting threads keep `concurrency` applies in flight; the
    // answers arrive on the service's threads and free a slot each.
    const int submitters = std::clamp(concurrency, 1, 8);
    std::vector<std::thread> threads;
    threads.reserve(size_t(submitters));
    std::atomic<size_t> submitted{0};
    std::vector<char> sent(attempts.size(), 0);
    for (int t = 0; t < submitters; ++t) {
        threads.emplace_back([&, t] {
            setCurrentThreadName(("sim-submit-" + std::to_string(t)).c_str());
            for (;;) {
                inFlight.acquire();
                const size_t i = next.fetch_add(1);
                if (i >= attempts.size() || (cancel && cancel->load())) {
                    inFlight.release();
                    return;
                }
                submitted.fetch_add(1);
                sent[i] = 1;
                const qint64 startNs = clock.nsecsElapsed();
                service.apply(options.campaign, attempts[i], [&, i, startNs](const ApplyResult &result) {
                    latencyNs[i] = clock.nsecsElapsed() - startNs;
                    outcomes[i] = result.status;
                    live.byStatus[size_t(result.status)].fetch_add(1, std::memory_order_relaxed);
                    live.recordLatency(latencyNs[i]);
                    live.done.fetch_add(1, std::memory_order_relaxed);
                    inFlight.release();
                    // The last answer, or any answer once cancelled, may be the one waited for.
                    if (answered.fetch_add(1) + 1 == qint64(attempts.size()) || (cancel && cancel->load())) {
                        std::lock_guard lock(doneMutex);
                        doneCondition.notify_all();
                    }
                });
            }
        });
    }
    for (std::thread &t : threads)
        t.join();
    {
        std::unique_lock lock(doneMutex);
        doneCondition.wait(lock, [&] { return answered.load() >= qint64(submitted.load()); });
    }
    const double seconds = double(clock.nsecsElapsed()) / 1e9;

    return summarizeSimulation(attempts, sent, outcomes, latencyNs, seconds, false);
}

} // namespace coupon
