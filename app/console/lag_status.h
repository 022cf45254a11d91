#pragma once

#include <QList>
#include <QString>

namespace coupon::console {

// The group's health read from recent lag samples, in the spirit of
// Burrow's evaluation rules (github.com/linkedin/Burrow/wiki/Consumer-Lag-Evaluation-Rules).
enum class LagStatus {
    Unknown, // no sample yet, or Kafka could not be asked
    Ok,      // lag was 0 within the window, or it is being worked off
    Warn,    // commits move but the lag grew at every sample of the window
    Stall,   // members are there, lag > 0, and the committed offsets did not move over the window
    Stop,    // lag > 0 and the group has no member left to commit
};
QString toString(LagStatus status);

struct LagSample
{
    qint64 atMs = 0;
    bool ok = true;       // Kafka answered
    qint64 lag = 0;       // total over the partitions
    qint64 committed = 0; // sum of the committed offsets (moves when the group commits)
    int members = -1;     // -1: unknown
};

// Samples the rules look at; fewer than this and only OK/STOP are decided.
inline constexpr int kLagWindow = 8;

// `samples` oldest first; only the last kLagWindow answered samples count.
LagStatus evaluateLag(const QList<LagSample> &samples);

} // namespace coupon::console
