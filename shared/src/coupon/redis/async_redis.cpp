#include "coupon/redis/async_redis.h"

#include "coupon/redis/redis_errors.h"

#include <hiredis/async.h>

#include <QFuture>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QPromise>
#include <QSocketNotifier>
#include <QThreadPool>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAsyncRedis, "coupon.redis")

namespace coupon {

struct AsyncRedis::Pending
{
    AsyncRedis *owner;
    Callback callback;
};

namespace {

// hiredis' event hooks for one context; hiredis calls cleanup exactly once,
// when it frees the context, and we free these with it.
struct QtEvents
{
    QObject *owner;
    redisAsyncContext *context;
    QSocketNotifier *read = nullptr;
    QSocketNotifier *write = nullptr;

    static void addRead(void *p)
    {
        auto *e = static_cast<QtEvents *>(p);
        if (!e->read) {
            e->read = new QSocketNotifier(e->context->c.fd, QSocketNotifier::Read);
            QObject::connect(e->read, &QSocketNotifier::activated, e->owner,
                             [context = e->context] { redisAsyncHandleRead(context); });
        }
        e->read->setEnabled(true);
    }
    static void delRead(void *p)
    {
        if (auto *e = static_cast<QtEvents *>(p); e->read)
            e->read->setEnabled(false);
    }
    static void addWrite(void *p)
    {
        auto *e = static_cast<QtEvents *>(p);
        if (!e->write) {
            e->write = new QSocketNotifier(e->context->c.fd, QSocketNotifier::Write);
            QObject::connect(e->write, &QSocketNotifier::activated, e->owner,
                             [context = e->context] { redisAsyncHandleWrite(context); });
        }
        e->write->setEnabled(true);
    }
    static void delWrite(void *p)
    {
        if (auto *e = static_cast<QtEvents *>(p); e->write)
            e->write->setEnabled(false);
    }
    static void cleanup(void *p)
    {
        auto *e = static_cast<QtEvents *>(p);
        // We may be inside a notifier's own signal: disable now, delete later.
        for (QSocketNotifier *n : {e->read, e->write}) {
            if (n) {
                n->setEnabled(false);
                n->disconnect();
                n->deleteLater();
            }
        }
        delete e;
    }

    static void attach(QObject *owner, redisAsyncContext *context)
    {
        auto *e = new QtEvents{owner, context};
        context->ev.data = e;
        context->ev.addRead = addRead;
        context->ev.delRead = delRead;
        context->ev.addWrite = addWrite;
        context->ev.delWrite = delWrite;
        context->ev.cleanup = cleanup;
    }
};

} // namespace

AsyncRedis::AsyncRedis(RedisSettings settings, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
{
    m_clock.start();
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &AsyncRedis::connectNow);
    connect(&m_watchdog, &QTimer::timeout, this, &AsyncRedis::watchdog);
    m_watchdog.start(std::max(50, std::min(m_settings.commandTimeoutMs, m_settings.connectTimeoutMs) / 4));
    connect(&m_sentinelCheck, &QTimer::timeout, this, [this] {
        if (m_connected && !m_asking)
            askSentinels(true);
    });
    m_endpoint = RedisEndpoint{m_settings.host, m_settings.port};
}

AsyncRedis::~AsyncRedis()
{
    m_watchdog.stop();
    m_reconnect.stop();
    if (m_context) {
        redisAsyncContext *context = m_context;
        m_context = nullptr;
        context->data = nullptr;
        redisAsyncFree(context); // runs every pending callback with a null reply
    }
}

void AsyncRedis::start()
{
    if (m_settings.usesSentinels())
        m_sentinelCheck.start(m_settings.sentinelCheckMs);
    connectNow();
}

QString AsyncRedis::where() const
{
    return u"Redis "_s + m_endpoint.text();
}

namespace {

// Sentinel questions block (a connect per Sentinel): they run here, never on
// an event loop. A few threads: every AsyncRedis of a process may ask at once
// after a failover.
QThreadPool &sentinelPool()
{
    static QThreadPool *pool = [] {
        auto *p = new QThreadPool; // never destroyed: a question may outlive main()
        p->setMaxThreadCount(4);
        return p;
    }();
    return *pool;
}

} // namespace

void AsyncRedis::askSentinels(bool check)
{
    m_asking = true;
    auto promise = std::make_shared<QPromise<Result<RedisEndpoint>>>();
    QFuture<Result<RedisEndpoint>> future = promise->future();
    promise->start();
    sentinelPool().start([promise, settings = m_settings] {
        promise->addResult(findRedisMaster(settings));
        promise->finish();
    });
    // The watcher is our child: its signal reaches us on our own thread and
    // dies with us (QFuture::then(context) in Qt 6.4 touches the context
    // from the pool thread, which may race our destruction).
    auto *watcher = new QFutureWatcher<Result<RedisEndpoint>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, check] {
        watcher->deleteLater();
        sentinelAnswered(watcher->future().result(), check);
    });
    watcher->setFuture(future);
}

void AsyncRedis::sentinelAnswered(const Result<RedisEndpoint> &master, bool check)
{
    m_asking = false;
    if (check && m_context) {
        // While connected: a Sentinel that cannot be asked changes nothing.
        if (master && *master != m_endpoint) {
            qCWarning(lcAsyncRedis, "Sentinel names %s as master, not %s: reconnecting", qPrintable(master->text()),
                      qPrintable(m_endpoint.text()));
            dropConnection(u"Sentinel names a new master, %1"_s.arg(master->text()));
        }
        return;
    }
    // A connect is wanted (also when a check's connection dropped meanwhile:
    // the reconnect found us asking and left the connect to this answer).
    if (m_context)
        return;
    if (!master) {
        setConnected(false, master.error().message);
        m_reconnect.start(m_backoff.nextMs());
        return;
    }
    connectTo(*master);
}

void AsyncRedis::connectNow()
{
    if (m_context)
        return;
    if (m_settings.usesSentinels()) {
        if (!m_asking)
            askSentinels(false);
        return;
    }
    connectTo(m_endpoint);
}

void AsyncRedis::connectTo(const RedisEndpoint &endpoint)
{
    m_endpoint = endpoint;
    const QByteArray host = m_endpoint.host.toUtf8();
    redisAsyncContext *context = redisAsyncConnect(host.constData(), m_endpoint.port);
    if (!context || context->err) {
        const QString why = context ? QString::fromUtf8(context->errstr) : u"out of memory"_s;
        if (context)
            redisAsyncFree(context);
        setConnected(false, why);
        m_reconnect.start(m_backoff.nextMs());
        return;
    }
    m_context = context;
    ++m_generation;
    m_context->data = this;
    QtEvents::attach(this, m_context);
    redisAsyncSetConnectCallback(m_context, &AsyncRedis::onConnect);
    redisAsyncSetDisconnectCallback(m_context, &AsyncRedis::onDisconnect);
    m_connectStartedMs = m_clock.elapsed();
    m_handshakeDone = false;
    // AUTH first: a Redis with ACLs answers nothing else (not even INFO) before it.
    if (const RedisArgs auth = authCommand(m_settings); !auth.empty())
        send(auth, [this](const Result<const redisReply *> &r) {
            if (!r && r.error().is(Errc::RedisReply))
                dropConnection(errors::fromRedisAuth(where(), m_settings.user, r.error().message).message);
            else if (!r)
                dropConnection(u"Redis AUTH: "_s + r.error().message);
        });
    if (m_settings.database != 0)
        send({"SELECT", QByteArray::number(m_settings.database)}, [this](const Result<const redisReply *> &r) {
            if (!r)
                dropConnection(u"Redis SELECT: "_s + r.error().message);
        });
    identify();
}

void AsyncRedis::identify()
{
    // Which Redis is this, and is it done loading? Asked again every 200 ms
    // while it loads; nothing else is sent until it is.
    send({"INFO"}, [this, generation = m_generation](const Result<const redisReply *> &r) {
        if (!m_context || m_generation != generation)
            return; // a connection since dropped
        if (!r) {
            dropConnection(errors::isNoAuth(r.error().message)
                               ? errors::fromRedisAuth(where(), m_settings.user, r.error().message).message
                               : u"Redis INFO: "_s + r.error().message);
            return;
        }
        const RedisIdentity id = parseRedisInfo(QByteArrayView((*r)->str, qsizetype((*r)->len)));
        if (id.runId.isEmpty()) {
            dropConnection(where() + u": INFO names no run_id"_s);
            return;
        }
        if (id.loading) {
            m_lastError = where() + u": still loading its data"_s;
            QTimer::singleShot(200, this, [this, generation] {
                if (m_context && m_generation == generation)
                    identify();
            });
            return;
        }
        if (m_settings.usesSentinels() && id.role != "master") {
            dropConnection(where()
                           + u": named master by a Sentinel but is a %1 (a failover is under way)"_s.arg(
                               QString::fromUtf8(id.role)));
            return;
        }
        m_instance = id.instance();
        m_backoff.reset();
        setConnected(true, {});
    });
}

void AsyncRedis::onConnect(const redisAsyncContext *context, int status)
{
    auto *self = static_cast<AsyncRedis *>(context->data);
    if (!self)
        return;
    if (status != REDIS_OK) {
        // hiredis frees the context after this callback.
        self->m_context = nullptr;
        self->m_sentAtMs.clear();
        self->setConnected(false, self->where() + u": "_s + QString::fromUtf8(context->errstr));
        self->m_reconnect.start(self->m_backoff.nextMs());
        return;
    }
    self->m_handshakeDone = true; // connected; identify() says when it is usable
}

void AsyncRedis::onDisconnect(const redisAsyncContext *context, int status)
{
    auto *self = static_cast<AsyncRedis *>(context->data);
    if (!self)
        return;
    // hiredis frees the context after this callback.
    self->m_context = nullptr;
    self->m_sentAtMs.clear();
    self->setConnected(false,
                       status == REDIS_OK ? u"disconnected"_s
                                          : u"Redis connection lost: "_s + QString::fromUtf8(context->errstr));
    self->m_reconnect.start(self->m_backoff.nextMs());
}

void AsyncRedis::setConnected(bool connected, const QString &why)
{
    if (!why.isEmpty())
        m_lastError = why;
    if (!connected)
        m_instance.clear();
    if (m_connected == connected)
        return;
    m_connected = connected;
    if (connected)
        qCInfo(lcAsyncRedis, "connected to %s", qPrintable(m_endpoint.text()));
    else
        qCWarning(lcAsyncRedis, "%s", qPrintable(why));
    emit connectedChanged(connected);
}

void AsyncRedis::dropConnection(const QString &why)
{
    m_lastError = why;
    if (m_context)
        redisAsyncDisconnect(m_context); // fails all pending, then onDisconnect
}

void AsyncRedis::watchdog()
{
    const qint64 now = m_clock.elapsed();
    if (m_context && !m_handshakeDone && now - m_connectStartedMs > m_settings.connectTimeoutMs) {
        // A connect that hangs (SYN to nowhere): give up on it, try again later.
        redisAsyncContext *context = m_context;
        m_context = nullptr;
        context->data = nullptr;
        m_sentAtMs.clear();
        redisAsyncFree(context);
        setConnected(false, where() + u": connect timed out"_s);
        m_reconnect.start(m_backoff.nextMs());
        return;
    }
    if (m_context && !m_sentAtMs.empty() && now - m_sentAtMs.front() > m_settings.commandTimeoutMs) {
        // A Redis that hangs (stopped, network gone silent): redisAsyncDisconnect
        // would wait for the replies, so free the context, which fails every
        // pending command now. We are in a timer, not in a hiredis callback.
        m_lastError = where() + u": no reply within %1 ms"_s.arg(m_settings.commandTimeoutMs);
        redisAsyncContext *context = m_context;
        m_context = nullptr;
        const QString why = m_lastError;
        redisAsyncFree(context); // pending callbacks get null replies; onDisconnect reconnects
        m_lastError = why;
        m_sentAtMs.clear();
        if (m_connected) {
            setConnected(false, m_lastError);
            m_reconnect.start(m_backoff.peekMs());
        }
    }
}

void AsyncRedis::onReply(redisAsyncContext *context, void *raw, void *privdata)
{
    std::unique_ptr<Pending> pending(static_cast<Pending *>(privdata));
    auto *reply = static_cast<redisReply *>(raw);
    AsyncRedis *self = pending->owner;
    if (context && context->data && !self->m_sentAtMs.empty())
        self->m_sentAtMs.pop_front();
    if (!reply) {
        ++self->m_errors;
        // Sent, and the connection went before its reply: it may have run.
        pending->callback(
            Error(Errc::RedisNoReply, self->m_lastError.isEmpty() ? u"Redis connection lost"_s : self->m_lastError));
        return;
    }
    if (errors::isReadOnly(reply)) {
        // Demoted under us: nothing was written. Reconnect through the Sentinels.
        ++self->m_errors;
        const QString why = self->where() + u" is no longer the master: "_s
            + QString::fromUtf8(reply->str, qsizetype(reply->len));
        pending->callback(Error(Errc::RedisUnavailable, why));
        if (context && context->data)
            self->dropConnection(why);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        pending->callback(errors::fromRedisReply(reply));
        return;
    }
    pending->callback(static_cast<const redisReply *>(reply));
}

void AsyncRedis::command(const RedisArgs &args, Callback callback)
{
    if (!m_connected) {
        ++m_errors;
        callback(Error(Errc::RedisUnavailable, m_lastError.isEmpty() ? u"Redis not connected"_s : m_lastError));
        return;
    }
    send(args, std::move(callback));
}

void AsyncRedis::send(const RedisArgs &args, Callback callback)
{
    if (!m_context) {
        ++m_errors;
        callback(Error(Errc::RedisUnavailable, m_lastError.isEmpty() ? u"Redis not connected"_s : m_lastError));
        return;
    }
    RedisArgv argv(args); // hiredis 0.14 takes a non-const argv
    auto *pending = new Pending{this, std::move(callback)};
    if (redisAsyncCommandArgv(m_context, &AsyncRedis::onReply, pending, argv.count(), argv.pointers.data(),
                              argv.lengths.data())
        != REDIS_OK) {
        std::unique_ptr<Pending> owned(pending);
        ++m_errors;
        owned->callback(Error(Errc::RedisUnavailable, u"Redis: "_s + QString::fromUtf8(m_context->errstr)));
        return;
    }
    m_sentAtMs.push_back(m_clock.elapsed());
}

void AsyncRedis::eval(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args, Callback callback)
{
    RedisArgs call = evalshaCommand(script, keys, args);
    command(call,
            [this, &script, call, generation = m_generation,
             callback = std::move(callback)](const Result<const redisReply *> &r) mutable {
                if (r || !r.error().is(Errc::RedisNoScript)) {
                    callback(r);
                    return;
                }
                // Redis restarted or SCRIPT FLUSH: load the text, then run it once
                // more, on the same connection only: its arguments may name the
                // Redis instance the script was first sent to.
                command({"SCRIPT", "LOAD", script.source},
                        [this, call = std::move(call), generation,
                         callback = std::move(callback)](const Result<const redisReply *> &loaded) mutable {
                            if (!loaded) {
                                // The script was not run (NOSCRIPT) and not sent again.
                                callback(Error(Errc::RedisUnavailable, loaded.error().message));
                                return;
                            }
                            if (!m_context || m_generation != generation) {
                                callback(Error(Errc::RedisUnavailable, u"Redis reconnected while loading a script"_s));
                                return;
                            }
                            command(call, std::move(callback));
                        });
            });
}

} // namespace coupon
