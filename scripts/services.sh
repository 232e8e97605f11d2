#!/usr/bin/env bash
# Starts the local engines the tests talk to (PostgreSQL, Redis, NATS JetStream) when one is not
# answering. The commands are the machine's own service commands; nothing is installed here.
set -u

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 50); do up "$1" && return 0; sleep 0.2; done
  echo "services: $2 did not come up on port $1" >&2
  return 1
}

if ! up 5432; then
  echo "services: starting PostgreSQL" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  wait_port 5432 PostgreSQL || true
fi
if ! up 6379; then
  echo "services: starting Redis" >&2
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  wait_port 6379 Redis || true
fi
if ! up 4222; then
  echo "services: starting NATS" >&2
  if [ -x /usr/sbin/nats-server ]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
  fi
  wait_port 4222 NATS || true
fi
exit 0
