// Package controller holds the day-two reconcilers that run inside `metrics-proxy serve` on the
// leader replica, on the pure cores of inject and policy:
//
//   - Rollout keeps every proxy DaemonSet's metrics-proxy.io/config-hash equal to the hash of the
//     haproxy.cfg it mounts, so that an admitted ConfigMap edit rolls the pods;
//   - Auditor checks, at start and periodically, every object in scope against today's policy and
//     today's injection (Scan), and reports findings as Events, the metric
//     metrics_proxy_audit_findings and the metrics-proxy.io/audit annotation; with Reinject
//     "stale" it re-applies stale proxies through the API server so that the webhook injects them
//     anew;
//   - Explain gathers, for the CLI, why a DaemonSet is or is not injected and admitted.
package controller
