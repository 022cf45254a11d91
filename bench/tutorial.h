#pragma once

// The tutorial's design (../shared/seed, docs/DESIGN.md "What the tutorial
// gets wrong"), rebuilt only to be measured beside ours in scripts/bench:
//  - apply: INCR a global counter, compare with the limit, then a
//    fire-and-forget produce (acks=1, no idempotence, nobody waits for the
//    delivery report);
//  - consume: a listener that saves one row per message with autocommit.
// Its own topic and table, so it never mixes with the product's data.

#include "coupon/base/settings.h"

#include <QString>

namespace coupon::bench {

struct TutorialApplyReport
{
    qint64 attempts = 0;
    qint64 accepted = 0; // counter <= limit: "issued" as far as the tutorial knows
    double seconds = 0;
};

// users distinct users (+ duplicatePercent repeats), `threads` at a time.
TutorialApplyReport tutorialApply(const Settings &settings, const QString &topic, const QByteArray &counterKey,
                                  qint64 limit, qint64 users, int duplicatePercent, int threads);

struct TutorialConsumeReport
{
    qint64 rows = 0;
    double seconds = 0; // first message to last row
};

// Consumes `expected` messages of `topic` from the beginning (a fresh group)
// into table tutorial_coupon, one autocommitted INSERT per message.
TutorialConsumeReport tutorialConsume(const Settings &settings, const QString &topic, qint64 expected, int timeoutMs);

} // namespace coupon::bench
