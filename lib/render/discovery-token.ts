import {
  DISCOVERY_KEY_PREFIX,
  DiscoveryKind,
  DiscoveryPlan,
  PUBLIC_DISCOVERY_SERVICE,
} from "../etcd/discovery";
import { shellQuote } from "./shell";

/** Seconds a discovery service may take to connect, and to answer one request. */
export const DISCOVERY_CONNECT_TIMEOUT = 5;
export const DISCOVERY_REQUEST_TIMEOUT = 15;

/*
 * The deploy-time step that gives a new cluster generation its discovery
 * token (POSIX sh, run by Terraform's local-exec in the Vagrant folder). It
 * writes the members' settings to `discovery.env` (0600), which the machines
 * get before their config is applied. Every request is bounded (curl's
 * connect and total timeouts), so a service that does not answer fails the
 * deploy with a message instead of hanging it; nothing is created until the
 * token exists.
 */
const TOKEN_SCRIPT = `set -u
fail() { printf 'etcd discovery: %s\\n' "$*" >&2; exit 1; }
command -v curl >/dev/null 2>&1 || fail "curl not found on PATH: the deploy makes the cluster's discovery token with curl (install curl)"
body=$(mktemp) && err=$(mktemp) || fail "mktemp failed"
trap 'rm -f "$body" "$err"' EXIT
# req METHOD URL [DATA]: prints the HTTP status; the answer is in $body, curl's complaint in $err.
req() {
  if [ "$#" -ge 3 ]; then
    curl -sS -o "$body" -w '%{http_code}' --connect-timeout "$connect" --max-time "$max" -X "$1" --data "$3" "$2" 2>"$err"
  else
    curl -sS -o "$body" -w '%{http_code}' --connect-timeout "$connect" --max-time "$max" -X "$1" "$2" 2>"$err"
  fi
}
why() { { cat "$err"; head -c 300 "$body"; } | tr '\\n' ' '; }
random_id() { od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'; }
write_env() {
  tmp=$(umask 077 && mktemp "$out.XXXXXX") || fail "cannot write $out"
  printf '%s\\n' "$@" >"$tmp" && mv "$tmp" "$out" || fail "cannot write $out"
}
made_here="# made by this deploy: deleted when the cluster is destroyed"
public_hint="The public discovery service is deprecated and unreliable: run one of your own (EtcdDiscovery.selfHosted) or use static bootstrap (the default)."
case "$kind" in
public-service)
  new="$endpoint/new?size=$size"
  code=$(req GET "$new") || fail "no answer from $new within $max s ($(why)). $public_hint"
  [ "$code" = 200 ] || fail "$new answered HTTP $code ($(why)). $public_hint"
  token=$(tr -d '\\r\\n' <"$body")
  printf '%s' "$token" | grep -Eq '^https?://[A-Za-z0-9.:-]+(/[A-Za-z0-9._~%+=,-]+)+$' ||
    fail "$new did not answer with a discovery URL: $(why)"
  write_env "ETCD_DISCOVERY=$token"
  ;;
self-hosted)
  token="$endpoint/v2/keys/$prefix/$(random_id)"
  code=$(req PUT "$token/_config/size?prevExist=false" "value=$size") ||
    fail "no answer from the discovery service $endpoint within $max s ($(why)): start it, or use static bootstrap (the default)"
  [ "$code" = 201 ] ||
    fail "the discovery service $endpoint did not create a token (HTTP $code: $(why)); it must be an etcd serving the v2 keys API (etcd < 3.6 with --enable-v2)"
  write_env "$made_here" "ETCD_DISCOVERY=$token"
  ;;
existing-token)
  token=$endpoint
  code=$(req GET "$token/_config/size") || fail "no answer from $token within $max s ($(why))"
  [ "$code" = 200 ] ||
    fail "the discovery token $token has no size (HTTP $code: $(why)): make one with a size, e.g. $public/new?size=$size"
  got=$(sed -n 's/.*"value":"\\([0-9]*\\)".*/\\1/p' "$body")
  [ "$got" = "$size" ] ||
    fail "the discovery token $token is for \${got:-an unknown number of} members, but the cluster bootstraps $size: make a token of size $size, e.g. $public/new?size=$size"
  code=$(req GET "$token") || fail "no answer from $token within $max s ($(why))"
  [ "$code" = 200 ] || fail "the discovery token $token cannot be read (HTTP $code: $(why))"
  if grep -q '"value":"[^"]*=' "$body"; then
    fail "the discovery token $token is spent: members registered on it already (a token bootstraps one cluster only; a destroyed cluster's token cannot be used again). Make a new one ($public/new?size=$size) or let the deploy make one (EtcdDiscovery.publicService(), .selfHosted(url))"
  fi
  write_env "ETCD_DISCOVERY=$token"
  ;;
v3)
  id=$(random_id)
  b64() { printf '%s' "$1" | base64 | tr -d '\\n'; }
  key=$(b64 "/$prefix/$id/_config/size")
  value=$(b64 "$size")
  txn="{\\"compare\\":[{\\"key\\":\\"$key\\",\\"target\\":\\"CREATE\\",\\"create_revision\\":\\"0\\"}],\\"success\\":[{\\"request_put\\":{\\"key\\":\\"$key\\",\\"value\\":\\"$value\\"}}]}"
  code=none
  for ep in $(printf '%s' "$endpoint" | tr ',' ' '); do
    code=$(req POST "$ep/v3/kv/txn" "$txn") && break
  done
  [ "$code" = 200 ] && grep -q '"succeeded":true' "$body" ||
    fail "the v3 discovery service $endpoint did not create a token (HTTP $code: $(why))"
  insecure=
  case "$endpoint" in https://*) ;; *) insecure=ETCD_DISCOVERY_INSECURE_TRANSPORT=true ;; esac
  write_env "ETCD_DISCOVERY_TOKEN=$id" "ETCD_DISCOVERY_ENDPOINTS=$endpoint" $insecure
  ;;
*) fail "unknown discovery kind $kind" ;;
esac
printf 'etcd discovery: a new token for %s members\\n' "$size"`;

/**
 * Shell command that makes the token of a new cluster generation and writes
 * the members' discovery settings to `out` (relative to the working folder).
 */
export function discoveryTokenCommand(discovery: DiscoveryPlan, out: string): string {
  if (discovery.kind === DiscoveryKind.STATIC) {
    throw new Error("static bootstrap needs no discovery token");
  }
  const vars: ReadonlyArray<readonly [string, string]> = [
    ["kind", discovery.kind],
    ["endpoint", discovery.endpoints.join(",")],
    ["size", String(discovery.size)],
    ["out", out],
    ["prefix", DISCOVERY_KEY_PREFIX],
    ["public", PUBLIC_DISCOVERY_SERVICE],
    ["connect", String(DISCOVERY_CONNECT_TIMEOUT)],
    ["max", String(DISCOVERY_REQUEST_TIMEOUT)],
  ];
  return `${vars.map(([k, v]) => `${k}=${shellQuote(v)}`).join("\n")}\n${TOKEN_SCRIPT}\n`;
}

/**
 * Shell command for the end of a cluster generation (destroy): the token
 * file goes, and a token the deploy made on a self-hosted v2 service (marked
 * so in the file; never one you brought) is deleted there (bounded, best
 * effort). A new deploy makes a new token.
 */
export function discoveryRetireCommand(out: string): string {
  const file = shellQuote(out);
  return [
    `if [ -f ${file} ]; then`,
    `token=$(sed -n 's/^ETCD_DISCOVERY=//p' ${file});`,
    `if grep -q '^# made by this deploy' ${file} && [ -n "$token" ]; then curl -sS -o /dev/null --connect-timeout ${DISCOVERY_CONNECT_TIMEOUT} --max-time ${DISCOVERY_REQUEST_TIMEOUT} -X DELETE "$token?recursive=true&dir=true" || true; fi;`,
    `rm -f ${file};`,
    `fi`,
  ].join(" ");
}
