#pragma once

#include "coupon/service/apply_service.h"
#include "coupon/service/campaigns.h"

#include <QList>
#include <QSet>
#include <QString>

#include <array>
#include <atomic>
#include <memory>
#include <vector>

namespace coupon {

class TokenMinter;

struct SimulationOptions
{
    QString campaign;
    qint64 users = 1000; // distinct users 1..users (shifted by firstUser - 1)
    qint64 firstUser = 1;
    int concurrency = 32;     // applies in flight at once
    int duplicatePercent = 0; // extra attempts by users who already tried, as % of users
    quint32 seed = 0;         // 0: random
    // Over HTTP: each request carries a token for its user minted with this
    // (TokenMinter::fromSettings); null: no Authorization header.
    std::shared_ptr<const TokenMinter> tokens;
};

// Live counters, readable from any thread while the run goes on.
struct SimulationProgress
{
    std::atomic<qint64> total{0};
    std::atomic<qint64> done{0};
    std::array<std::atomic<qint64>, kApplyOutcomeCount> byStatus{};

    // Answer latencies so far in log-spaced buckets (4 per power of two from
    // 1 µs), so a watcher can show percentiles while the run goes on.
    static constexpr int kLatencyBuckets = 112;
    std::array<std::atomic<qint64>, kLatencyBuckets> latencyBuckets{};
    using LatencyCounts = std::array<qint64, kLatencyBuckets>;
    void recordLatency(qint64 ns);
    double latencyPercentileMs(double p) const; // 0 before the first answer
    LatencyCounts latencySnapshot() const;
    // The p-quantile (0..1) of `counts` in ms: the upper bound of the bucket
    // it falls in; 0 when `counts` is empty.
    static double percentileMs(const LatencyCounts &counts, double p);
};

// A run's figures, as they are kept in its record (run_record.h).
struct SimulationFigures
{
    qint64 attempts = 0;
    std::array<qint64, kApplyOutcomeCount> byStatus{};
    double seconds = 0;
    double appliesPerSecond = 0;
    double acceptedPerSecond = 0;
    double p50Ms = 0, p95Ms = 0, p99Ms = 0, maxMs = 0;
    bool cancelled = false;

    qint64 count(ApplyOutcome s) const { return byStatus[size_t(s)]; }
};

struct SimulationReport : SimulationFigures
{
    AnsweredApplies answered; // for an exact audit

    QString summary() const; // one line: counts by outcome, rate, latencies
};

// A latency for people and scripts alike, wherever one is shown: three
// significant digits in µs, ms or s ("12.3 µs", "250 µs", "1.50 ms",
// "1.23 s"); always "<number> <unit>", the number with a '.' whatever the
// locale (scripts/bench-cluster reads "p50 ([0-9.]+ (µs|ms|s))").
QString latencyText(double ms);

// The shuffled attempt order for `options`: every user once plus repeats.
std::vector<qint64> simulationAttempts(const SimulationOptions &options);

// The report of a run from its per-attempt records. An attempt answered
// Uncertain (and, when `unavailableMayHideAccept`, Unavailable) makes its user
// neither accepted nor rejected for the audit.
SimulationReport summarizeSimulation(const std::vector<qint64> &attempts, const std::vector<char> &sent,
                                     const std::vector<ApplyOutcome> &outcomes, const std::vector<qint64> &latencyNs,
                                     double seconds, bool unavailableMayHideAccept);

// Runs the tutorial's scenario (and bigger ones) against an ApplyService in
// this process: every user applies once, some again, in a shuffled order,
// with `concurrency` applies in flight. Blocks until every apply is answered
// or `cancel` is set (then no new apply starts; those in flight finish).
SimulationReport simulate(ApplyService &service, const SimulationOptions &options,
                          SimulationProgress *progress = nullptr, const std::atomic<bool> *cancel = nullptr);

} // namespace coupon
