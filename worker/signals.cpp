#include "signals.h"

#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace coupon {

namespace {
int g_stopPipe[2] = {-1, -1};
int g_reloadPipe[2] = {-1, -1};

// Async-signal-safe: one byte into the pipe, errno as it was.
void wake(int fd)
{
    const int saved = errno;
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = ::write(fd, &byte, 1);
    errno = saved;
}

void onStopSignal(int)
{
    wake(g_stopPipe[1]);
}

void onReloadSignal(int)
{
    wake(g_reloadPipe[1]);
}

void install(int (&pipe)[2], void (*handler)(int), std::initializer_list<int> signalNumbers, QObject *parent,
             std::function<void()> callback)
{
    if (::pipe2(pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        qFatal("pipe2 failed");
    auto *notifier = new QSocketNotifier(pipe[0], QSocketNotifier::Read, parent);
    QObject::connect(notifier, &QSocketNotifier::activated, parent, [fd = pipe[0], callback = std::move(callback)] {
        char buffer[16];
        while (::read(fd, buffer, sizeof buffer) > 0) { }
        callback();
    });
    struct sigaction action = {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (const int signal : signalNumbers)
        sigaction(signal, &action, nullptr);
}
} // namespace

void installStopSignals(QObject *parent, std::function<void()> onStop)
{
    install(g_stopPipe, onStopSignal, {SIGTERM, SIGINT}, parent, std::move(onStop));
}

void installReloadSignal(QObject *parent, std::function<void()> onReload)
{
    install(g_reloadPipe, onReloadSignal, {SIGHUP}, parent, std::move(onReload));
}

} // namespace coupon
