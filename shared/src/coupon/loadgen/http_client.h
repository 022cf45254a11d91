#pragma once

#include "coupon/base/result.h"
#include "coupon/loadgen/simulation.h"

#include <QList>
#include <QString>
#include <QUrl>

namespace coupon {

// The simulation driven over HTTP against one or more gateways: `concurrency`
// lanes, each with one apply in flight, sending the next as soon as its
// answer is in; attempt k goes to targets[k mod n] (round robin), over a
// keep-alive connection per lane and target. POST
// /api/v1/campaigns/{c}/applications; answers map back onto ApplyOutcome
// (202 accepted, 409 duplicate, 410 sold out, 403 closed, 404 not loaded,
// 400/401 and 403 user_mismatch invalid, 503 and 429 unavailable; 503
// "outcome_unknown" uncertain). With options.tokens, every request carries
// its user's bearer token.
// Runs its own event loop on a private thread; blocks until done or cancelled.
// Errors: "http.target" (no target, or one that is not http://HOST[:PORT]).
Result<SimulationReport> simulateHttp(const QList<QUrl> &targets, const SimulationOptions &options,
                                      SimulationProgress *progress = nullptr,
                                      const std::atomic<bool> *cancel = nullptr);
Result<SimulationReport> simulateHttp(const QUrl &target, const SimulationOptions &options,
                                      SimulationProgress *progress = nullptr,
                                      const std::atomic<bool> *cancel = nullptr);

// Gateway base URLs as the console's target box and couponctl simulate
// --target take them: separated by commas and/or whitespace.
// Errors: "http.target" (none, or one that is not http://HOST[:PORT]).
Result<QList<QUrl>> parseTargets(const QString &text);

// Maps one HTTP answer of the apply endpoint to the protocol's outcome.
ApplyOutcome statusFromHttp(int code, QByteArrayView body);

} // namespace coupon
