#!/usr/bin/env python3
"""Collects the figures of scripts/bench (a TSV of name, value, unit, note)
into a table on stdout and a JSON file; ratios are computed here."""
import json, sys, platform, os, datetime

tsv, out_json = sys.argv[1], sys.argv[2]
rows = {}
order = []
for line in open(tsv):
    parts = line.rstrip('\n').split('\t')
    if len(parts) < 3:
        continue
    name, value, unit = parts[:3]
    note = parts[3] if len(parts) > 3 else ''
    try:
        value = float(value)
    except ValueError:
        continue
    rows[name] = {'value': value, 'unit': unit, 'note': note}
    order.append(name)

ratios = []
def ratio(label, num, den, aim):
    if num in rows and den in rows and rows[den]['value'] > 0:
        r = rows[num]['value'] / rows[den]['value']
        ratios.append({'ratio': label, 'value': r, 'aim': aim, 'meets': r >= aim})

ratio('decisions / pipelined EVALSHA', 'ours.decisions', 'limit.redis.evalsha.pipelined', 0.5)
ratio('decisions / unpipelined EVALSHA', 'ours.decisions', 'limit.redis.evalsha', 0.0)
ratio('sold-out memo decisions / Lua decisions', 'ours.decisions.memo', 'ours.decisions', 0.0)
ratio('drain / raw batched inserts', 'ours.drain', 'limit.mysql.batched', 0.4)
ratio('gateway apply / trivial endpoint', 'ours.gateway.apply', 'ours.gateway.trivial', 0.6)
ratio('gateway CPU: trivial / apply (per request)', 'ours.gateway.cpu.trivial', 'ours.gateway.cpu.apply', 0.0)
ratio('gateway sold-out apply / trivial endpoint', 'ours.gateway.soldout', 'ours.gateway.trivial', 0.0)
ratio('accepted in-process / Kafka producer limit', 'ours.accepted', 'limit.kafka.producer', 0.0)
ratio('drain / tutorial drain', 'ours.drain', 'tutorial.drain', 0.0)
ratio('accepted / tutorial apply', 'ours.accepted', 'tutorial.apply', 0.0)
ratio('end to end / tutorial end to end', 'ours.e2e', 'tutorial.e2e', 30.0)
ratio('end to end: memo off time / memo on time', 'ours.e2e.nomemo.seconds', 'ours.e2e.seconds', 0.0)

meminfo = open('/proc/meminfo').readline().split()[1]
machine = {
    'cpus': os.cpu_count(),
    'memory_kib': int(meminfo),
    'kernel': platform.release(),
    'cpu': next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), ''),
    'date': datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%SZ'),
}
json.dump({'machine': machine, 'results': [dict(name=n, **rows[n]) for n in order], 'ratios': ratios},
          open(out_json, 'w'), indent=2)

print(f"{'measure':40} {'value':>14}  unit")
for n in order:
    r = rows[n]
    print(f"{n:40} {r['value']:>14,.1f}  {r['unit']}  {r['note']}")
print()
for r in ratios:
    aim = f" (aim >= {r['aim']:.0%}: {'met' if r['meets'] else 'NOT met'})" if r['aim'] else ''

    print(f"{r['ratio']:45} {r['value']:7.1%}{aim}")
