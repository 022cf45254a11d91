#pragma once

#include "coupon/base/result.h"
#include "coupon/loadgen/simulation.h"

#include <QString>
#include <QUrl>

namespace coupon {

// The simulation driven over HTTP against one or more gateways: `concurrency`
// keep-alive connections, each sending POST /api/v1/campaigns/{c}/applications
// and the next one as soon as its answer is in. Answers map back onto
// ApplyOutcome (202 accepted, 409 duplicate, 410 sold out, 403 closed, 404 not
// loaded, 400/401 and 403 user_mismatch invalid, 503 and 429 unavailable;
// 503 "outcome_unknown" uncertain). With options.tokens, every request
// carries its user's bearer token.
// Runs its own event loop on a private thread; blocks until done or cancelled.
// Errors: "http.target" (bad URL).
Result<SimulationReport> simulateHttp(const QUrl &target, const SimulationOptions &options,
                                      SimulationProgress *progress = nullptr,
                                      const std::atomic<bool> *cancel = nullptr);

// Maps one HTTP answer of the apply endpoint to the protocol's outcome.
ApplyOutcome statusFromHttp(int code, QByteArrayView body);

} // namespace coupon
