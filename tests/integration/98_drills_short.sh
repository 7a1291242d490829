# The outage drills of tests/drills (make drill), in their short profile:
# kill -9 during a fan-out, the broker stopped three times, misbehaving
# webhook receivers, a full database. One TAP line per drill, with its
# "drill NAME: planned N, delivered N, lost 0, …" line.
top=$(cd "$(dirname "$0")/../.." && pwd)
exec sh "$top/tests/drills/run.sh" --profile short --tap "${TEST_BUILD:-$top/build/asan}"
