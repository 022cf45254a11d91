#pragma once

#include <QObject>

#include <functional>

namespace coupon {

// Calls `onStop` on the Qt event loop when SIGTERM or SIGINT arrives (the
// handler only writes to a pipe; the rest runs outside signal context).
void installStopSignals(QObject *parent, std::function<void()> onStop);
// The same for SIGHUP: `onReload` runs on the event loop.
void installReloadSignal(QObject *parent, std::function<void()> onReload);

} // namespace coupon
