#!/usr/bin/env bash
# Installs, configures and starts Debian's Apache ActiveMQ 5.17 with STOMP on 127.0.0.1:61613, so the
# message-broker contract suite can run against a real broker:
#   .ci/activemq.sh && ROTOR_ACTIVEMQ_STOMP_URL=stomp://127.0.0.1:61613 npx vitest run tests/contract/message-broker
# Safe to run again: every edit checks first, and a running broker is only restarted when its config changed.
set -euo pipefail

readonly INSTANCE_DIR=/etc/activemq/instances-available/main
readonly ENABLED_LINK=/etc/activemq/instances-enabled/main
readonly CONFIG="$INSTANCE_DIR/activemq.xml"
readonly BASE_DIR=/var/lib/activemq/main
readonly STOMP_HOST=127.0.0.1
readonly STOMP_PORT=61613
readonly START_DEADLINE_SECONDS="${ROTOR_ACTIVEMQ_START_DEADLINE_SECONDS:-60}"

fail() { echo "activemq.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (installs a Debian package and edits /etc/activemq)"

stomp_port_open() { (exec 3<>"/dev/tcp/$STOMP_HOST/$STOMP_PORT") 2>/dev/null; }

install_package() {
  if dpkg-query -W -f='${Status}' activemq 2>/dev/null | grep -q 'install ok installed'; then
    return
  fi
  if ! apt-cache policy activemq 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y activemq
}

find_java_home() {
  local candidate
  for candidate in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/default-java; do
    if [ -x "$candidate/bin/java" ]; then echo "$candidate"; return; fi
  done
  fail "no Java 17 runtime under /usr/lib/jvm (apt-get install -y openjdk-17-jre-headless)"
}

write_instance_options() {
  # Debian trap 1: the default JAVA_HOME (/usr/lib/jvm/default-java) is missing unless default-jre is installed.
  # Debian trap 2: without ACTIVEMQ_BASE pointing at the instance, the broker waits forever on a KahaDB lock in a
  # root-owned data directory. ACTIVEMQ_OUT keeps startup errors instead of sending them to /dev/null.
  local java_home; java_home="$(find_java_home)"
  cat > "$INSTANCE_DIR/options.new" <<EOF
JAVA_HOME="$java_home"
ACTIVEMQ_OUT="$BASE_DIR/activemq.out"
export ACTIVEMQ_BASE="$BASE_DIR"
ACTIVEMQ_OPTS="-Xms64M -Xmx512M -Dorg.apache.activemq.UseDedicatedTaskRunner=true"
EOF
  if cmp -s "$INSTANCE_DIR/options.new" "$INSTANCE_DIR/options" 2>/dev/null; then
    rm "$INSTANCE_DIR/options.new"
  else
    mv "$INSTANCE_DIR/options.new" "$INSTANCE_DIR/options"
  fi
  mkdir -p "$BASE_DIR"
  chown -R activemq: "$BASE_DIR"
}

configure_broker() {
  [ -L "$ENABLED_LINK" ] || [ -e "$ENABLED_LINK" ] || ln -s "$INSTANCE_DIR" "$ENABLED_LINK"

  # Debian enables only OpenWire; Rotor speaks STOMP. Debian trap 3 (an amqp connector makes the broker fail,
  # the AMQP module is not packaged) is avoided by never adding one.
  if ! grep -q 'name="stomp"' "$CONFIG"; then
    sed -i 's#<transportConnector name="openwire" uri="tcp://127.0.0.1:61616"/>#&\n            <transportConnector name="stomp" uri="stomp://'"$STOMP_HOST:$STOMP_PORT"'"/>#' "$CONFIG"
  fi
  grep -q 'name="stomp"' "$CONFIG" || fail "could not add the STOMP connector to $CONFIG"

  # One dead-letter naming for every broker Rotor runs against: queue Q dead-letters to DLQ.Q.
  if ! grep -q 'individualDeadLetterStrategy' "$CONFIG"; then
    perl -0pi -e 's#(\n\s*<persistenceAdapter>)#\n        <destinationPolicy>\n            <policyMap>\n                <policyEntries>\n                    <policyEntry queue=">">\n                        <deadLetterStrategy>\n                            <individualDeadLetterStrategy queuePrefix="DLQ." useQueueForQueueMessages="true"/>\n                        </deadLetterStrategy>\n                    </policyEntry>\n                </policyEntries>\n            </policyMap>\n        </destinationPolicy>\n$1#' "$CONFIG"
  fi
  grep -q 'individualDeadLetterStrategy queuePrefix="DLQ."' "$CONFIG" || fail "could not add the DLQ policy to $CONFIG"

  # Rotor reads queue depth by browsing; ActiveMQ stops a browse after maxBrowsePageSize (400) messages.
  if ! grep -q 'maxBrowsePageSize' "$CONFIG"; then
    sed -i 's#<policyEntry queue=">">#<policyEntry queue=">" maxBrowsePageSize="1000000">#' "$CONFIG"
  fi
  grep -q 'maxBrowsePageSize' "$CONFIG" || fail "could not raise maxBrowsePageSize in $CONFIG"
}

broker_running() { /etc/init.d/activemq status 2>/dev/null | grep -qi 'running'; }

start_broker() {
  local config_changed="$1"
  if broker_running && [ "$config_changed" = no ] && stomp_port_open; then
    return
  fi
  if broker_running; then /etc/init.d/activemq stop >/dev/null || true; fi
  /etc/init.d/activemq start >/dev/null || true

  local waited=0
  until stomp_port_open; do
    if [ "$waited" -ge "$START_DEADLINE_SECONDS" ]; then
      echo "--- last lines of $BASE_DIR/activemq.out ---" >&2
      tail -n 30 "$BASE_DIR/activemq.out" >&2 2>/dev/null || true
      fail "ActiveMQ STOMP port $STOMP_HOST:$STOMP_PORT did not accept connections within ${START_DEADLINE_SECONDS}s"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

install_package
before="$({ cat "$CONFIG" "$INSTANCE_DIR/options" 2>/dev/null || true; } | md5sum)"
write_instance_options
configure_broker
after="$(cat "$CONFIG" "$INSTANCE_DIR/options" | md5sum)"
start_broker "$([ "$before" = "$after" ] && echo no || echo yes)"
echo "stomp://$STOMP_HOST:$STOMP_PORT"
