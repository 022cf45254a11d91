#pragma once

#include "coupon/base/settings.h"
#include "coupon/kafka/kafka_handles.h"

#include "coupon/protocol/codec.h"
#include "coupon/service/campaigns.h"
#include <librdkafka/rdkafka_mock.h>

#include <QByteArray>
#include <QDeadlineTimer>
#include <QList>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace coupon::test {

// Settings for integration tests: $COUPON_CONFIG (scripts/test points it at
// the test stack's admin.ini) plus COUPON_* variables. Fails loudly, never
// skips: an integration test without its servers is a red test.
Settings integrationSettings();

// A campaign id no earlier run used: "<prefix>-<random>".
QString uniqueCampaign(const QString &prefix);

// Creates and opens a fresh campaign "<prefix>-<random>" of `limit` coupons;
// a failure ends the test run with the reason.
QString openCampaign(CampaignOps &ops, const QString &prefix, qint64 limit);

// Polls `condition` every few milliseconds until it holds or `timeoutMs`
// passes; processes Qt events meanwhile. Returns whether it held.
bool waitFor(const std::function<bool()> &condition, int timeoutMs);

// What a short-lived program (couponctl, --help of a service) did.
struct ProgramRun
{
    int exitCode = -1; // -1: crashed or still running after the deadline (then killed)
    QString out;
    QString err;
    QString text() const;
};
// Runs `program` to its end within `timeoutMs` in `environment`.
ProgramRun runProgram(const QString &program, const QStringList &args, const QProcessEnvironment &environment,
                      int timeoutMs);

// couponctl with the test stack's configuration ($COUPON_CONFIG) and `args`,
// within 60 s.
ProgramRun couponctl(const QStringList &args);

// A service binary of ours as a child process, with a role's configuration
// ($<configVariable>, else $COUPON_CONFIG).
class ServiceProcess
{
public:
    ServiceProcess(QString program, QString configVariable, QString readyPattern, QStringList extraArgs);
    ~ServiceProcess(); // SIGKILL if still running

    // Starts it and waits until its output matches the ready pattern.
    // Returns an error text, empty on success.
    QString start(int timeoutMs = 60000);
    // SIGTERM, then waits for exit; returns the exit code (-1 on timeout/crash).
    int terminate(int timeoutMs = 15000);
    void kill9();
    QString output() const;
    qint64 pid() const { return m_process.processId(); }

protected:
    void drain();
    QProcess m_process;
    QString m_program;
    QString m_configVariable;
    QString m_readyPattern;
    QStringList m_args;
    mutable QByteArray m_output;
};

// The real coupon-worker; ready once it owns partitions. Its admin
// listener (worker.admin.listen) on a free port.
class WorkerProcess : public ServiceProcess
{
public:
    // `readyPattern`: what start() waits for instead (kAdminUp: only that
    // it started, for a worker whose dependencies are down).
    explicit WorkerProcess(QStringList extraArgs = {}, QString readyPattern = {});
    quint16 adminPort() const; // /healthz, /readyz, /metrics
    static constexpr const char *kAdminUp = "coupon-worker: admin on [0-9.]+:[0-9]+";
};

// What most suites on the real stack start with: CampaignOps connected
// (MySQL, migrations, Redis) and a real coupon-worker consuming.
struct StackFixture
{
    std::unique_ptr<CampaignOps> ops;
    std::unique_ptr<WorkerProcess> worker;
    // Returns an error text, empty on success.
    QString start(const Settings &settings, const QString &connectionName);
};

// The real coupon-gateway on a free port; ready once it listens.
class GatewayProcess : public ServiceProcess
{
public:
    explicit GatewayProcess(QStringList extraArgs = {});
    quint16 port() const;
    quint16 adminPort() const; // /healthz, /readyz, /metrics
};

// A redis-server of the test's own (a free port, a fresh directory, AOF on
// with appendfsync everysec as the stack runs it), to kill, freeze, cut the
// AOF of and restart without touching the stack's Redis.
class RedisServer
{
public:
    explicit RedisServer(QStringList extraArgs = {});
    ~RedisServer(); // SIGKILL if running; removes its directory

    // Starts it (again, on the same port and directory) and waits until it
    // answers PING (LOADING and NOAUTH count: it answers). Returns an error text.
    QString start(int timeoutMs = 30000);
    void kill9();
    void freeze(); // SIGSTOP
    void thaw();   // SIGCONT
    quint16 port() const { return m_port; }
    // The AOF file the writes go to now (Redis 7: appendonlydir/*.incr.aof).
    QString incrAof() const;
    // `settings` with this Redis in place of the stack's (no ACL users here:
    // the default user, without a password).
    Settings pointed(Settings settings) const;
    QStringList serviceArgs() const; // --set redis.port=... (and no user) for a service

private:
    QString m_dir;
    quint16 m_port = 0;
    QStringList m_extraArgs;
    QProcess m_process;
};

// librdkafka's mock cluster (one broker) in this process, with `topic` of
// three partitions: a Kafka whose failures a test scripts (rdkafka_mock.h).
class MockKafka
{
public:
    explicit MockKafka(const QString &topic);
    ~MockKafka();
    QString error() const { return m_error; } // empty when it runs
    rd_kafka_mock_cluster_t *cluster() const { return m_cluster; }
    QString bootstraps() const;
    // --set kafka.bootstrap.servers=... for a service, in plaintext: the
    // mock knows no SASL (the stack's INIs ask for SCRAM).
    QStringList serviceArgs() const;

private:
    KafkaHandle m_host;
    rd_kafka_mock_cluster_t *m_cluster = nullptr;
    QString m_error;
};

struct HttpResult
{
    int status = 0;                                   // 0: no answer (connection closed or deadline)
    QList<std::pair<QByteArray, QByteArray>> headers; // names lower-cased
    QByteArray body;
    QByteArray header(const QByteArray &lowerName) const;
};

// Sends raw bytes on a fresh connection and reads one response, with a deadline.
HttpResult httpRaw(quint16 port, const QByteArray &raw, int timeoutMs = 10000);
// A well-formed request.
HttpResult http(quint16 port, const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                const QList<std::pair<QByteArray, QByteArray>> &headers = {{"Content-Type", "application/json"}});
// The value of one sample line of a /metrics page ("name{labels} value"), or -1.
double metricSample(const QByteArray &page, const QByteArray &series);

// A bearer token for `user`, signed with the test stack's key
// (auth.signing.key of $COUPON_CONFIG; scripts/stack makes it).
QByteArray tokenFor(qint64 user, int ttlS = 300);
// The headers of a request by `user`: JSON, and their token.
QList<std::pair<QByteArray, QByteArray>> asUser(qint64 user);

// POST {"userId":user} to `path` as that user (their token), plus `headers`.
HttpResult apply(quint16 port, const QByteArray &path, qint64 user,
                 const QList<std::pair<QByteArray, QByteArray>> &headers = {});

struct RawHeaderValue
{
    QByteArray name;
    std::optional<QByteArray> value;
};

struct Produced
{
    int32_t partition = -1;
    int64_t offset = -1;
};

// A plain (not our protocol's) producer for tests that need arbitrary bytes
// on the topic: poison, replays, a Java-shaped message without headers.
class RawProducer
{
public:
    explicit RawProducer(const Settings &settings);
    // Produces and waits for the delivery report; fails the test on error.
    Produced send(const std::optional<QByteArray> &key, const std::optional<QByteArray> &value,
                  const QList<RawHeaderValue> &headers = {});

private:
    KafkaHandle m_rk;
    QByteArray m_topic;
};

// Headers of a well-formed message of our protocol.
QList<RawHeaderValue> protocolHeaders(const QString &campaign, qint64 ticket);

} // namespace coupon::test
