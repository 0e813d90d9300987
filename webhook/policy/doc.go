// Package policy decides whether an HAProxy configuration (haproxy.cfg) or a proxy DaemonSet may
// run in the cluster: it reads the cluster admin's policy file (Parse) and checks a config
// (ValidateConfig, ValidateConfigMap) or a DaemonSet (ValidateDaemonSet, and ValidateProxy, which
// also checks the ConfigMap the DaemonSet mounts) against it, returning every Violation at once,
// each with a stable RuleID and, for a config, its line. Rules lists the rule ids;
// docs/policy-rules.md explains each.
//
// # An allowlist
//
// ValidateConfig accepts a configuration only if every line belongs to a small grammar it fully
// understands: the seed procedure's configuration and the harmless logging, timeout and
// connection settings around it. Anything else is a violation, named by its rule (see the RuleID
// constants and docs/policy-rules.md). In short, a compliant configuration has:
//
//   - sections global, defaults (named or not), frontend and backend only; no directive before the
//     first section, no conditional block, no listen, program, peers, http-errors, ... section;
//   - in every proxy, mode http, written in the proxy or in the defaults section it inherits (the
//     last defaults section above it, named or not, or the one "from NAME" designates);
//   - per frontend exactly one "bind ${NODE_IP}:PORT" with no option, PORT being the port of a
//     component the policy allows, no two frontends on one port;
//   - as the frontend's first http-request rule "http-request deny if !{ path /metrics }" or
//     "deny unless { path /metrics }", "-m str" allowed, or the same with one named ACL defined once
//     by "acl NAME path [-m str] PATH..."; the paths a subset of the policy's allowed paths;
//   - after it only more "http-request deny" rules (optionally "deny_status 4xx") whose conditions
//     test the path exactly or the method (method, METH_GET and the other METH_* ACLs, ACLs
//     defined by path or method), with negation, "or" and ANDed terms; the same deny rules in
//     backends; when the policy lists allowed methods, deny rules that stop every other method;
//   - routing only by "default_backend NAME" or an unconditional "use_backend NAME" to a backend
//     whose servers are 127.0.0.1, localhost or ::1 on the frontend's port, with only the server
//     options check, ssl, verify none, inter, fastinter, downinter, rise, fall, weight, maxconn and
//     maxqueue, each in the range HAProxy takes (the same for default-server);
//   - besides, only log, maxconn, nbthread, timeout, retries, balance, http-reuse,
//     fullconn and a short list of options (httplog, dontlognull, forwardfor without arguments,
//     http-server-close, http-keep-alive, ...).
//
// # Read as HAProxy 2.6 reads
//
// The grammar is what HAProxy 2.6, the oldest data plane supported, reads and starts with:
// values in the ranges it takes, names its invalid_char() accepts, only the options it negates,
// the deny_status codes it has; where versions differ, 2.6 decides. No word may hold a '$' but
// the address of "bind ${NODE_IP}:PORT" (RuleExpansion): HAProxy expands variables, defaults
// written in the file, ${NAME[*]} word splits and $.LINE, $.FILE, $.SECTION while it splits a
// line, so such a word is not the one the validator reads.
//
// # Pure and bounded
//
// The package reads no file, calls no API server and keeps no mutable global state; a Policy is
// not modified by the functions that take it. ValidateConfig never panics and its work grows
// linearly with the input: it streams the config (haproxy.Walk) and keeps only what the checks
// that span sections need. The one check that could grow faster, whether deny rules stop every
// method the policy does not allow, has a fixed budget per config, and a config that exhausts it
// is refused (RuleMethodDeny) rather than checked slowly. ValidateConfigN, ValidateConfigMapN
// and ValidateProxyN keep only the first violations (DefaultMaxViolations for the webhook and
// the CLI) and count the others, which they never format: their memory and their answer are
// bounded whatever the input; First and More cut and end a list of violations the same way.
package policy
