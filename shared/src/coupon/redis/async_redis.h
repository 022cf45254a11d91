#pragma once

#include "coupon/base/backoff.h"
#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/redis/redis.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <deque>
#include <functional>

struct redisAsyncContext;

namespace coupon {

// One non-blocking hiredis connection on the Qt event loop: many commands in
// flight are pipelined on it. The event hooks are our own rather than
// hiredis' adapters/qt.h, whose destructor writes into a context hiredis may
// already have freed after a disconnect (so a reconnect would use freed
// memory), and which needs moc run over a system header. Connect and command
// timeouts are enforced here, since hiredis' async API has none: a command
// older than redis.command.timeout.ms drops the connection, which fails every
// outstanding command at once. A connection counts as connected once INFO
// said which Redis it reached (instance()) and that it is done loading its
// data; until then, and while disconnected, commands fail immediately
// ("redis.unavailable": nothing was sent) and a reconnect runs with backoff.
// A command sent whose reply never came fails with "redis.no_reply": it may
// have run. With redis.sentinels the master is asked of the Sentinels on a
// pool thread (never on the loop) before each connect and every
// redis.sentinel.check.ms while connected; a node that is not a master, a
// Sentinel naming another one, or a write refused READONLY drops the
// connection, and the reconnect finds the new master. Use from the thread
// the object lives in.
class AsyncRedis : public QObject
{
    Q_OBJECT

public:
    // The reply is valid only during the callback; an error reply arrives as
    // an Error ("redis.reply"/"redis.noscript"), a lost connection as
    // "redis.unavailable".
    using Callback = std::function<void(Result<const redisReply *>)>;

    AsyncRedis(RedisSettings settings, QObject *parent = nullptr);
    ~AsyncRedis() override;

    void start();
    bool isConnected() const { return m_connected; }
    // The run_id of the Redis this connection reached (empty while not
    // connected); a reconnect may reach another one.
    const QByteArray &instance() const { return m_instance; }
    QString lastError() const { return m_lastError; }
    qint64 failedCommands() const { return m_errors; } // commands answered with an error or not at all

    void command(const RedisArgs &args, Callback callback);
    // EVALSHA; on NOSCRIPT loads the script and runs it once more.
    void eval(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args, Callback callback);

signals:
    void connectedChanged(bool connected);

private:
    struct Pending;
    static void onReply(redisAsyncContext *context, void *reply, void *privdata);
    static void onConnect(const redisAsyncContext *context, int status);
    static void onDisconnect(const redisAsyncContext *context, int status);
    void connectNow();
    void connectTo(const RedisEndpoint &endpoint);
    void askSentinels(bool check);
    void sentinelAnswered(const Result<RedisEndpoint> &master, bool check);
    QString where() const;
    void send(const RedisArgs &args, Callback callback); // also before the connection is identified
    void identify();
    void dropConnection(const QString &why);
    void setConnected(bool connected, const QString &why);
    void watchdog();

    RedisSettings m_settings;
    redisAsyncContext *m_context = nullptr;
    bool m_connected = false;
    bool m_handshakeDone = false;
    QByteArray m_instance;
    quint64 m_generation = 0; // connections made, so a late callback knows its own
    QString m_lastError;
    qint64 m_errors = 0;
    RedisEndpoint m_endpoint;
    bool m_asking = false; // a Sentinel question on a pool thread
    QTimer m_sentinelCheck;
    QTimer m_reconnect;
    QTimer m_watchdog;
    QElapsedTimer m_clock;
    qint64 m_connectStartedMs = 0;
    std::deque<qint64> m_sentAtMs; // replies come back in order on one connection
    Backoff m_backoff;
};

} // namespace coupon
