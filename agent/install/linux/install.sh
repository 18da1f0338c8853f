#!/usr/bin/env bash
# Installs the azure-spot-restarter agent as a hardened systemd service.
#
#   sudo ./install.sh --repository acme/spot-restarts --token-file /path/to/token
#   sudo ./install.sh --repository acme/spot-restarts --app-id 123 --installation-id 456 --private-key-file app.pem
#   sudo SPOT_AGENT_GITHUB_TOKEN=... ./install.sh --repository acme/spot-restarts
#
# Options: --repository, --token-file, --app-id, --installation-id, --private-key-file,
#          --on-preempt "<command>", --approve, --event-type, --github-api-url, --bundle <path>
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bundle="$here/../../dist/azure-spot-restarter-agent.cjs"
# From a release download, the bundle sits beside this script.
[[ -f $bundle || ! -f $here/azure-spot-restarter-agent.cjs ]] || bundle="$here/azure-spot-restarter-agent.cjs"
prefix=/opt/azure-spot-restarter-agent
config=/etc/azure-spot-restarter-agent
repository='' token_file='' app_id='' installation_id='' key_file='' on_preempt='' approve=false event_type='' api_url=''

die() { echo "install.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repository) repository=$2; shift 2 ;;
    --token-file) token_file=$2; shift 2 ;;
    --app-id) app_id=$2; shift 2 ;;
    --installation-id) installation_id=$2; shift 2 ;;
    --private-key-file) key_file=$2; shift 2 ;;
    --on-preempt) on_preempt=$2; shift 2 ;;
    --approve) approve=true; shift ;;
    --event-type) event_type=$2; shift 2 ;;
    --github-api-url) api_url=$2; shift 2 ;;
    --bundle) bundle=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (sudo)"
[[ $repository =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die "--repository must be owner/repo"
[[ -f $bundle ]] || die "agent bundle not found at $bundle (give --bundle)"
command -v node >/dev/null || die "Node.js 18 or newer is required (apt-get install nodejs)"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' || die "Node.js 18 or newer is required, found $(node --version)"
if [[ -z $token_file && -z $app_id && -z ${SPOT_AGENT_GITHUB_TOKEN:-} ]]; then
  die "give GitHub credentials: --app-id/--installation-id/--private-key-file (recommended), --token-file, or SPOT_AGENT_GITHUB_TOKEN"
fi

id spot-agent >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin spot-agent
install -d -m 0755 "$prefix"
install -m 0644 "$bundle" "$prefix/azure-spot-restarter-agent.cjs"
install -d -m 0750 -o root -g spot-agent "$config"

# Secrets: readable by the service user only (the agent refuses files others can read).
env_lines=("SPOT_AGENT_REPOSITORY=$repository")
if [[ -n $app_id ]]; then
  [[ -n $installation_id && -n $key_file ]] || die "--app-id needs --installation-id and --private-key-file"
  install -m 0600 -o spot-agent -g spot-agent "$key_file" "$config/github-app.pem"
  env_lines+=("SPOT_AGENT_APP_ID=$app_id" "SPOT_AGENT_INSTALLATION_ID=$installation_id" "SPOT_AGENT_PRIVATE_KEY_FILE=$config/github-app.pem")
elif [[ -n $token_file ]]; then
  install -m 0600 -o spot-agent -g spot-agent "$token_file" "$config/token"
  env_lines+=("SPOT_AGENT_TOKEN_FILE=$config/token")
else
  (umask 077 && printf '%s\n' "$SPOT_AGENT_GITHUB_TOKEN" > "$config/token")
  chown spot-agent:spot-agent "$config/token"
  env_lines+=("SPOT_AGENT_TOKEN_FILE=$config/token")
fi
[[ -n $on_preempt ]] && env_lines+=("SPOT_AGENT_ON_PREEMPT=$on_preempt")
[[ $approve == true ]] && env_lines+=("SPOT_AGENT_APPROVE=true")
[[ -n $event_type ]] && env_lines+=("SPOT_AGENT_EVENT_TYPE=$event_type")
[[ -n $api_url ]] && env_lines+=("SPOT_AGENT_GITHUB_API_URL=$api_url")
(umask 077 && printf '%s\n' "${env_lines[@]}" > "$config/agent.env")
chmod 0600 "$config/agent.env"

install -m 0644 "$here/azure-spot-restarter-agent.service" /etc/systemd/system/azure-spot-restarter-agent.service
systemctl daemon-reload

echo "Checking the set-up (IMDS, Spot, tag, GitHub credentials):"
# With the unit's own Node.js flags, so a Node.js that refuses one fails here, not at every boot.
node_flags=$(sed -n 's|^ExecStart=/usr/bin/env node \(.*\) /opt/azure-spot-restarter-agent/.*|\1|p' "$here/azure-spot-restarter-agent.service")
# The settings as systemd passes them: one variable a line, whose value may hold spaces.
mapfile -t settings < <(grep -v '^#' "$config/agent.env")
# shellcheck disable=SC2086 # the flags are words
if ! runuser -u spot-agent -- env "${settings[@]}" node $node_flags "$prefix/azure-spot-restarter-agent.cjs" --check; then
  echo "The check found problems; the service is installed but not started. Fix them, then: systemctl enable --now azure-spot-restarter-agent" >&2
  exit 1
fi
systemctl enable --now azure-spot-restarter-agent
echo "Installed. Logs: journalctl -u azure-spot-restarter-agent -f"
